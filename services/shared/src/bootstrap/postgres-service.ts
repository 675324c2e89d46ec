import type { Express } from 'express';
import type { DataSource, EntitySchema } from 'typeorm';
import { z } from 'zod';
import { authConfigSchema, JwtVerifier } from '../auth/jwt-verifier';
import { baseConfigSchema, loadConfig, millis } from '../config/load-config';
import { DaprSidecar } from '../dapr/dapr-sidecar';
import { DaprStateStore } from '../dapr/dapr-state';
import type { DaprStateApp } from '../dapr/outbox-stores';
import { EventPublisher } from '../dapr/event-publisher';
import { EventSubscriber } from '../dapr/event-subscriber';
import { createServiceApp, type ReadinessCheck } from '../http/create-service-app';
import { postgresReadiness } from '../http/readiness-checks';
import { createLogger, type Logger } from '../logging/logger';
import { OutboxRelay } from '../outbox/sql-outbox';
import { migrateDatabase, type MigrationClass } from '../store/migrations';
import { connectPostgres } from '../store/postgres';
import { runService } from './run-service';

/** Settings of every PostgreSQL service: the base, token verification, its database and its outbox. */
export const postgresServiceConfigSchema = baseConfigSchema.extend({
  ...authConfigSchema.shape,
  DATABASE_URL: z.string().min(1),
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(10),
  /** How often the outbox relay looks for events when nothing nudged it. */
  OUTBOX_POLL_MS: millis().default(500),
});

/** What the bootstrap hands a PostgreSQL service to compose itself from. */
export interface PostgresServiceContext<C> {
  config: C;
  logger: Logger;
  dataSource: DataSource;
  sidecar: DaprSidecar;
  /** The service's outbox relay; call `relay.nudge()` after a commit that enqueued events. */
  relay: OutboxRelay;
  verifier: JwtVerifier;
  /** Register event handlers here; the bootstrap mounts the subscriptions. */
  subscriber: EventSubscriber;
  /** The app's aggregates in its Dapr state stores, whose outbox publishes its events. */
  daprState: (app: DaprStateApp) => DaprStateStore;
}

export interface PostgresServiceParts {
  routes: (app: Express) => void;
  readiness?: ReadinessCheck[];
  /** Runs after the database is ready and before the HTTP server listens (seeding, timers). */
  onStart?: () => Promise<void>;
  onShutdown?: () => Promise<void>;
}

/**
 * The composition every PostgreSQL service shares: config parsed once, JSON
 * logger, its own database with the outbox tables, the sidecar, an outbox
 * relay, token verification, subscriptions, health, and an orderly shutdown
 * (HTTP first, then the relay, then the pool).
 */
export function runPostgresService<S extends typeof postgresServiceConfigSchema>(options: {
  name: string;
  configSchema: S;
  entities: EntitySchema[];
  /** Its versioned schema changes, applied once at start (see migrateDatabase). */
  migrations?: MigrationClass[];
  /** False for a service whose events all leave through Dapr's outbox: no SQL outbox relay runs. */
  sqlOutbox?: boolean;
  compose: (
    context: PostgresServiceContext<z.infer<S>>,
  ) => PostgresServiceParts | Promise<PostgresServiceParts>;
}): void {
  runService(options.name, async () => {
    const config = loadConfig(options.configSchema);
    const logger = createLogger(options.name, config.LOG_LEVEL);
    const sqlOutbox = options.sqlOutbox ?? true;
    const dataSource = await connectPostgres({
      url: config.DATABASE_URL,
      sqlOutbox,
      entities: options.entities,
      migrations: options.migrations ?? [],
      poolSize: config.DB_POOL_SIZE,
    });
    const applied = await migrateDatabase(dataSource, options.name).catch(async (error: unknown) => {
      await dataSource.destroy();
      throw error;
    });
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    const sidecar = DaprSidecar.of(config);
    const relay = new OutboxRelay(dataSource, new EventPublisher(sidecar), logger, {
      pollIntervalMs: config.OUTBOX_POLL_MS,
    });
    const subscriber = new EventSubscriber(logger);
    const parts = await options.compose({
      config,
      logger,
      dataSource,
      sidecar,
      relay,
      verifier: JwtVerifier.fromConfig(config),
      subscriber,
      daprState: (app) => DaprStateStore.of(app, sidecar, config),
    });
    const service = createServiceApp({
      name: options.name,
      port: config.APP_PORT,
      logger,
      bodyLimit: config.BODY_LIMIT,
      shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
      host: config.APP_HOST,
      appApiToken: config.APP_API_TOKEN,
      readiness: [
        postgresReadiness(dataSource),
        { name: 'dapr', check: () => sidecar.healthz(), critical: false },
        ...(parts.readiness ?? []),
      ],
      routes: (app) => {
        subscriber.mount(app);
        parts.routes(app);
      },
      onShutdown: async () => {
        await parts.onShutdown?.();
        await relay.stop();
        await dataSource.destroy();
      },
    });
    if (sqlOutbox) relay.registerMetrics(service.metrics);
    await parts.onStart?.();
    await service.start();
    if (sqlOutbox) relay.start();
  });
}
