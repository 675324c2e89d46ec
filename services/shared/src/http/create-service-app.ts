import type { Server } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { pinoHttp } from 'pino-http';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { AppError } from '../errors/app-error';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../errors/problem-json';
import type { Logger } from '../logging/logger';
import { runWithContext } from '../logging/request-context';
import { platformCallersOnly, sidecarOnly } from './platform-endpoints';
import { rejectUndecodablePath, translateClientError } from './client-errors';
import { translateStoreError } from '../store/unavailable';

/**
 * A dependency the service needs to do its work. `critical: false` marks one the
 * service can run without (a cache): when it fails, /readyz stays 200 but says
 * `degraded`.
 */
/** How long daprd keeps an idle connection to its app open (Go's http.DefaultTransport). */
const SIDECAR_IDLE_TIMEOUT_MS = 90_000;

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
  critical?: boolean;
  /** What /readyz says of the dependency beside its status (how the service uses it, say). */
  detail?: Record<string, string>;
}

export interface ServiceAppOptions {
  name: string;
  port: number;
  /** The address to listen on (APP_HOST): loopback unless the platform must reach the port (a pod). */
  host?: string;
  logger: Logger;
  /** Keep request bodies as raw bytes (a Buffer) instead of parsing JSON: for a proxy (the edge). */
  rawBody?: boolean;
  bodyLimit?: string;
  shutdownTimeoutMs?: number;
  /** How long a stop keeps accepting (draining: every answer closes its connection) before closing. */
  shutdownLingerMs?: number;
  readiness?: ReadinessCheck[];
  /** Mounts the service's routes; called after the common middleware and before the error handler. */
  routes: (app: Express) => void;
  /**
   * Runs as shutdown begins, while open requests still finish: end what keeps a request open on
   * purpose (a long-poll), so the graceful close need not wait it out.
   */
  onDraining?: () => void;
  /** Runs on shutdown after the HTTP server stopped accepting requests (close pools, stop relays). */
  onShutdown?: () => Promise<void>;
  /**
   * The app API token the sidecar sends (`APP_API_TOKEN`): it tells requests the sidecar delivered
   * from direct ones. When set, every route but the platform's answers only requests that carry it
   * (401 otherwise), and /readyz and /metrics answer only direct ones (see platform-endpoints.ts).
   */
  appApiToken?: string;
}

export interface ServiceApp {
  app: Express;
  metrics: Registry;
  start(): Promise<Server>;
  stop(reason?: string): Promise<void>;
}

const READINESS_TIMEOUT_MS = 2_000;

async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`timed out after ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * The bootstrap every ecom-micro service shares: JSON body parsing with a size
 * limit, structured request logs carrying Dapr's trace context, /healthz,
 * /readyz, /metrics (these two for direct callers only, not through Dapr),
 * problem+json errors and graceful shutdown on SIGTERM/SIGINT.
 * A client's mistake (undecodable path or body, malformed JSON) is always a 4xx problem.
 */
export function createServiceApp(options: ServiceAppOptions): ServiceApp {
  const { logger } = options;
  const metrics = new Registry();
  metrics.setDefaultLabels({ service: options.name });
  // The event-loop lag histogram samples on a timer of the service's own loop, every 10 ms by
  // default: 100 wake-ups a second, about 5 ms of CPU a second per idle service (measured). Once
  // every 100 ms still catches any stall long enough to matter between two scrapes.
  collectDefaultMetrics({ register: metrics, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

  let shuttingDown = false;
  let server: Server | undefined;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // No ETag: express hashes every JSON answer (SHA-1) to make one, and no caller of these APIs sends
  // If-None-Match; an order's status is read by long-poll, which a 304 would not serve.
  app.set('etag', false);

  // Draining: every answer closes its connection, so a client that kept one open (its keep-alive
  // outlives the Service's endpoint, which a connection already made does not consult) makes its next
  // request on a new connection, which goes to a pod that is not stopping.
  // (Node writes `Connection: close` and ends the socket for a response whose shouldKeepAlive is false
  // when its headers go out: set on each answer not yet begun at the stop, and on every later one.)
  const answering = new Set<Response>();
  app.use((_req, res, next) => {
    if (shuttingDown) res.shouldKeepAlive = false;
    else {
      answering.add(res);
      res.once('close', () => answering.delete(res));
    }
    next();
  });
  app.use((req, _res, next) => {
    runWithContext(
      {
        traceparent: req.header('traceparent') ?? undefined,
        tracestate: req.header('tracestate') ?? undefined,
      },
      next,
    );
  });
  app.use(
    pinoHttp({
      logger,
      autoLogging: {
        ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics',
      },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(rejectUndecodablePath);
  const limit = options.bodyLimit ?? '100kb';
  app.use(
    options.rawBody
      ? express.raw({ limit, type: () => true })
      : express.json({ limit, type: ['application/json', 'application/*+json'] }),
  );

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', service: options.name });
  });

  const platformOnly = platformCallersOnly(options.appApiToken);

  app.get('/readyz', platformOnly, async (_req, res) => {
    if (shuttingDown) {
      res.status(503).json({ status: 'shutting-down', checks: {} });
      return;
    }
    const checks: Record<
      string,
      { status: 'up' | 'down'; critical: boolean; error?: string; detail?: Record<string, string> }
    > = {};
    await Promise.all(
      (options.readiness ?? []).map(async (c) => {
        const critical = c.critical ?? true;
        try {
          await withTimeout(c.check(), READINESS_TIMEOUT_MS);
          checks[c.name] = { status: 'up', critical, ...(c.detail ? { detail: c.detail } : {}) };
        } catch (error) {
          checks[c.name] = {
            status: 'down',
            critical,
            error: error instanceof Error ? error.message : String(error),
            ...(c.detail ? { detail: c.detail } : {}),
          };
        }
      }),
    );
    const values = Object.values(checks);
    const criticalDown = values.some((c) => c.status === 'down' && c.critical);
    const degraded = values.some((c) => c.status === 'down' && !c.critical);
    res
      .status(criticalDown ? 503 : 200)
      .json({ status: criticalDown ? 'unavailable' : degraded ? 'degraded' : 'ready', checks });
  });

  app.get('/metrics', platformOnly, async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });

  if (options.appApiToken !== undefined) app.use(sidecarOnly(options.appApiToken));
  options.routes(app);

  app.use((req, _res, next) => {
    next(AppError.notFound(`no route for ${req.method} ${req.path}`));
  });

  // Express recognises an error handler by its four parameters.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const appError = translateStoreError(translateClientError(error, req));
    const problem = toProblem(appError, req.originalUrl);
    if (problem.status >= 500) {
      logger.error({ err: error, path: req.originalUrl }, 'request failed');
    }
    if (appError instanceof AppError && appError.retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(appError.retryAfterSeconds));
    }
    res.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem));
  });

  async function stop(reason = 'stop requested'): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    for (const res of answering) if (!res.headersSent) res.shouldKeepAlive = false;
    logger.info({ reason }, 'shutting down');
    const lingerMs = options.shutdownLingerMs ?? 0;
    if (lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, lingerMs));
    const timeoutMs = options.shutdownTimeoutMs ?? 10_000;
    const force = setTimeout(() => {
      logger.warn({ timeoutMs }, 'graceful shutdown timed out; closing open connections');
      server?.closeAllConnections();
    }, timeoutMs);
    force.unref();
    try {
      options.onDraining?.();
      if (server) {
        const closing = new Promise<void>((resolve) =>
          server?.close(() => {
            resolve();
          }),
        );
        server.closeIdleConnections();
        await closing;
      }
      await options.onShutdown?.();
      logger.info('stopped');
    } finally {
      clearTimeout(force);
    }
  }

  async function start(): Promise<Server> {
    const listening = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(options.port, options.host ?? '127.0.0.1', (error?: Error) => {
        if (error) reject(error);
        else resolve(s);
      });
    });
    // The sidecar keeps idle connections to the app for 90 s (Go's default transport). Node closes
    // them after 5 s by default, and a request daprd writes onto a connection Node is closing at that
    // moment fails as a 5xx that never reached the app (seen once by the fuzzer). Outlasting the
    // sidecar's idle timeout leaves the closing to the client, where it races with nothing.
    listening.keepAliveTimeout = SIDECAR_IDLE_TIMEOUT_MS + 5_000;
    listening.headersTimeout = SIDECAR_IDLE_TIMEOUT_MS + 10_000;
    server = listening;
    logger.info({ port: options.port }, 'listening');
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        stop(signal).then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
    return listening;
  }

  return { app, metrics, start, stop };
}
