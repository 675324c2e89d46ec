import type { DataSource, EntitySchema } from 'typeorm';
import { z } from 'zod';
import { authConfigSchema } from '../auth/jwt-verifier';
import { baseConfigSchema, millis } from '../config/load-config';
import { DaprStateStore } from '../dapr/dapr-state';
import type { DaprStateApp } from '../dapr/outbox-stores';
import { EventPublisher } from '../dapr/event-publisher';
import { postgresReadiness } from '../http/readiness-checks';
import { OutboxRelay } from '../outbox/sql-outbox';
import { migrateDatabase, type MigrationClass } from '../store/migrations';
import { connectPostgres } from '../store/postgres';
import { runComposedService, type ServiceContext, type ServiceParts } from './compose-service';

/** Settings of every PostgreSQL service: the base, token verification, its database and its outbox. */
export const postgresServiceConfigSchema = baseConfigSchema.extend({
  ...authConfigSchema.shape,
  DATABASE_URL: z.string().min(1),
  /** At least two: at start one connection holds the migration lock while another migrates. */
  DB_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
  /**
   * How long one SQL statement may wait for PostgreSQL's answer; one that overruns fails (a 503 to
   * retry, an activity retried) and its connection is closed. Above any statement's time under load.
   */
  DB_QUERY_TIMEOUT_MS: millis().min(100).default(30_000),
  /** How often the outbox relay looks for events when nothing nudged it. */
  OUTBOX_POLL_MS: millis().default(500),
});

/** What the PostgreSQL bootstrap adds to the common context. */
export interface PostgresStore {
  dataSource: DataSource;
  /** The service's outbox relay; call `relay.nudge()` after a commit that enqueued events. */
  relay: OutboxRelay;
  /** The app's aggregates in its Dapr state stores, whose outbox publishes their events. */
  daprState: (app: DaprStateApp) => DaprStateStore;
}

/** What the bootstrap hands a PostgreSQL service to compose itself from. */
export type PostgresServiceContext<C> = ServiceContext<C, PostgresStore>;

/**
 * A service on its own PostgreSQL database: the common composition (see runComposedService) plus
 * the database, migrated once at start, its readiness, an outbox relay, and at shutdown the relay
 * and then the pool, after the service's own parts stopped.
 */
export function runPostgresService<S extends typeof postgresServiceConfigSchema>(options: {
  name: string;
  configSchema: S;
  entities: EntitySchema[];
  /** Its versioned schema changes, applied once at start (see migrateDatabase). */
  migrations?: MigrationClass[];
  /** False for a service whose events all leave through Dapr's outbox: no SQL outbox relay runs. */
  sqlOutbox?: boolean;
  compose: (context: PostgresServiceContext<z.infer<S>>) => ServiceParts | Promise<ServiceParts>;
}): void {
  const sqlOutbox = options.sqlOutbox ?? true;
  runComposedService({
    name: options.name,
    configSchema: options.configSchema,
    compose: options.compose,
    openStore: async ({ config, logger, sidecar }) => {
      const dataSource = await connectPostgres({
        url: config.DATABASE_URL,
        sqlOutbox,
        entities: options.entities,
        migrations: options.migrations ?? [],
        poolSize: config.DB_POOL_SIZE,
        queryTimeoutMs: config.DB_QUERY_TIMEOUT_MS,
      });
      const applied = await migrateDatabase(dataSource, options.name).catch(async (error: unknown) => {
        await dataSource.destroy();
        throw error;
      });
      if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
      const relay = new OutboxRelay(dataSource, new EventPublisher(sidecar), logger, {
        pollIntervalMs: config.OUTBOX_POLL_MS,
      });
      return {
        context: { dataSource, relay, daprState: (app) => DaprStateStore.of(app, sidecar, config) },
        readiness: [postgresReadiness(dataSource)],
        registerMetrics: (metrics) => {
          if (sqlOutbox) relay.registerMetrics(metrics);
        },
        onListening: () => {
          if (sqlOutbox) relay.start();
        },
        close: async () => {
          await relay.stop();
          await dataSource.destroy();
        },
      };
    },
  });
}
