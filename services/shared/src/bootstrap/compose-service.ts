import { setTimeout as sleep } from 'node:timers/promises';
import type { Express } from 'express';
import type { Metric, Registry } from 'prom-client';
import type { z } from 'zod';
import { authConfigSchema, JwtVerifier, type AuthConfig } from '../auth/jwt-verifier';
import { loadConfig, type BaseConfig } from '../config/load-config';
import { DaprSidecar } from '../dapr/dapr-sidecar';
import { EventSubscriber } from '../dapr/event-subscriber';
import { createServiceApp, type ReadinessCheck, type ServiceApp } from '../http/create-service-app';
import { createLogger, type Logger } from '../logging/logger';
import { runService } from './run-service';

/** What a service's store is opened from: its settings, its logger and its sidecar. */
export interface StoreOpening<C> {
  config: C;
  logger: Logger;
  sidecar: DaprSidecar;
}

/** What every service is composed from, whatever it keeps its data in. */
export interface BaseServiceContext<C> extends StoreOpening<C> {
  /** Register event handlers here; the bootstrap mounts the subscriptions. */
  subscriber: EventSubscriber;
}

/**
 * Token verification through the auth service's JWKS, for a service whose settings name it. Auth
 * (the issuer, which verifies with its own keys) and the edge (which forwards tokens unread) have none.
 */
export type TokenVerification<C> = C extends AuthConfig ? { verifier: JwtVerifier } : object;

/** The context a service composes itself from: the common parts plus what its store adds. */
export type ServiceContext<C, X> = BaseServiceContext<C> & TokenVerification<C> & X;

/** What a service's composition hands back to the bootstrap. */
export interface ServiceParts {
  routes: (app: Express) => void;
  readiness?: ReadinessCheck[];
  /** Runs after the store is ready and before the HTTP server listens (seeding, timers). */
  onStart?: () => Promise<void>;
  /** Runs as shutdown begins, before open requests have finished (ends long-polls early). */
  onDraining?: () => void;
  /** Runs once the HTTP server stopped taking requests, before the store closes. */
  onShutdown?: () => Promise<void>;
  /** The service's own metrics, served on /metrics with the common ones. */
  metrics?: Metric[];
}

/** A service's store, opened: what it adds to the context, how it is probed and how it closes. */
export interface OpenedStore<X> {
  context: X;
  readiness: ReadinessCheck[];
  registerMetrics?: (metrics: Registry) => void;
  /** Runs once the HTTP server listens (an outbox relay's first pass). */
  onListening?: () => void;
  /** Closes the store, after the service's own parts stopped. */
  close: () => Promise<void>;
}

/** How the HTTP side differs for the one app whose port is public (the edge). */
export interface PublicPortOptions {
  /** Keep request bodies as raw bytes, for a proxy. */
  rawBody?: boolean;
  /** False where the port is public: no sidecar delivers its requests, so no app token is checked. */
  checkAppToken?: boolean;
  /** True where the service can do nothing without its sidecar: /readyz fails while it is away. */
  sidecarCritical?: boolean;
}

/** How a service is put together, once its settings are parsed. */
export interface ServiceAssembly<C extends BaseConfig, X> {
  name: string;
  config: C;
  logger: Logger;
  http?: PublicPortOptions;
  openStore: (opening: StoreOpening<C>) => Promise<OpenedStore<X>>;
  compose: (context: ServiceContext<C, X>) => ServiceParts | Promise<ServiceParts>;
}

/**
 * The one composition every service shares, whatever its store: the store opened, the sidecar,
 * token verification where the settings name the auth service, subscriptions, health, readiness
 * and metrics, and an ordered shutdown: HTTP first, then the service's own parts, then the store.
 * The store-specific bootstraps (runPostgresService, runMongoService) add only their connection,
 * its readiness and its teardown. `start()` runs the parts' onStart, listens, then lets the store
 * begin its background work; `stop()` is the same shutdown SIGTERM runs.
 */
export async function assembleService<C extends BaseConfig, X>(
  assembly: ServiceAssembly<C, X>,
): Promise<ServiceApp> {
  const { name, config, logger } = assembly;
  const sidecar = DaprSidecar.of(config);
  const store = await openStoreWithin(config.STORE_CONNECT_TIMEOUT_MS, logger, () =>
    assembly.openStore({ config, logger, sidecar }),
  );
  const subscriber = new EventSubscriber(logger);
  const parts = await assembly.compose({
    config,
    logger,
    sidecar,
    subscriber,
    ...tokenVerification(config),
    ...store.context,
  });
  const http = assembly.http ?? {};
  const service = createServiceApp({
    name,
    port: config.APP_PORT,
    host: config.APP_HOST,
    logger,
    rawBody: http.rawBody ?? false,
    bodyLimit: config.BODY_LIMIT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    shutdownLingerMs: config.SHUTDOWN_LINGER_MS,
    ...((http.checkAppToken ?? true) ? { appApiToken: config.APP_API_TOKEN } : {}),
    readiness: [
      ...store.readiness,
      { name: 'dapr', check: () => sidecar.healthz(), critical: http.sidecarCritical ?? false },
      ...(parts.readiness ?? []),
    ],
    routes: (app) => {
      // A service that subscribes to nothing serves no subscription list (Dapr reads a 404 as none,
      // as it always has for auth and the edge), so the edge's public port answers no Dapr route.
      if (subscriber.topics.length > 0) subscriber.mount(app);
      parts.routes(app);
    },
    onDraining: parts.onDraining,
    onShutdown: async () => {
      await parts.onShutdown?.();
      await store.close();
    },
  });
  store.registerMetrics?.(service.metrics);
  for (const metric of parts.metrics ?? []) service.metrics.registerMetric(metric);
  return {
    ...service,
    start: async () => {
      await parts.onStart?.();
      const server = await service.start();
      store.onListening?.();
      return server;
    },
  };
}

/**
 * Opens the store, trying again with a growing pause (0.5 s doubling to 5 s) while it fails, until
 * `withinMs` have passed; then the last error stands. An openStore that fails closes what it opened.
 */
async function openStoreWithin<X>(
  withinMs: number,
  logger: Logger,
  open: () => Promise<OpenedStore<X>>,
): Promise<OpenedStore<X>> {
  const deadline = Date.now() + withinMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (error) {
      const pause = Math.min(5_000, 500 * 2 ** (attempt - 1));
      if (Date.now() + pause > deadline) throw error;
      logger.warn({ err: error, attempt, retryInMs: pause }, 'store not reachable yet; trying again');
      await sleep(pause);
    }
  }
}

/**
 * Runs a service as its process's composition root: settings parsed once from the environment
 * (every bad key listed), the JSON logger, then the assembly above, started.
 */
export function runComposedService<S extends z.ZodType<BaseConfig>, X>(
  options: Omit<ServiceAssembly<z.infer<S>, X>, 'config' | 'logger'> & { configSchema: S },
): void {
  runService(options.name, async () => {
    const config = loadConfig(options.configSchema);
    const logger = createLogger(options.name, config.LOG_LEVEL);
    const service = await assembleService({ ...options, config, logger });
    await service.start();
  });
}

/** Runs a service that keeps nothing of its own (the edge): no store to open, probe or close. */
export function runStatelessService<S extends z.ZodType<BaseConfig>>(options: {
  name: string;
  configSchema: S;
  http?: PublicPortOptions;
  compose: (context: ServiceContext<z.infer<S>, object>) => ServiceParts | Promise<ServiceParts>;
}): void {
  runComposedService({
    ...options,
    openStore: () => Promise.resolve({ context: {}, readiness: [], close: () => Promise.resolve() }),
  });
}

/**
 * A verifier when the settings hold the auth service's (a schema with `authConfigSchema`'s keys);
 * zod drops keys a schema does not name, so the parse succeeds exactly where the type says it does.
 */
function tokenVerification<C extends BaseConfig>(config: C): TokenVerification<C> {
  const auth = authConfigSchema.safeParse(config);
  const verification = auth.success
    ? { verifier: JwtVerifier.fromConfig({ ...auth.data, DAPR_API_TOKEN: config.DAPR_API_TOKEN }) }
    : {};
  // TypeScript cannot narrow a conditional type on a runtime check; the comment above is the proof.
  return verification as TokenVerification<C>;
}
