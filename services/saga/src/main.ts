import { DaprWorkflowClient } from '@dapr/dapr';
import {
  connectPostgres,
  createLogger,
  migrateDatabase,
  createServiceApp,
  DaprSidecar,
  JwtVerifier,
  loadConfig,
  routeConsoleTo,
} from '@ecom/shared';
import { Pool } from 'pg';
import { sagaConfigSchema } from './config';
import type { SagaPolicy } from './domain/saga';
import { SagaService } from './domain/saga-service';
import { sagaSubscriptions } from './events/subscriptions';
import { sagaRoutes } from './http/routes';
import { createDaprParticipants } from './participants/dapr-participants';
import { sagaMigrations } from './store/migrations';
import { PgSagaLog } from './store/pg-saga-log';
import { DaprSagaEngine } from './workflow/dapr-saga-engine';
import { SagaWorker } from './workflow/saga-worker';
import { connectedWorkflowWorkers } from './workflow/sidecar-workflow-status';

async function main(): Promise<void> {
  const config = loadConfig(sagaConfigSchema);
  const logger = createLogger('saga', config.LOG_LEVEL);
  routeConsoleTo(logger);
  const pool = new Pool({ connectionString: config.DATABASE_URL, max: config.DB_POOL_SIZE });
  pool.on('error', (error) => {
    logger.warn({ err: error }, 'idle database connection failed');
  });
  // The saga log's schema: versioned migrations, applied once under a lock like every service's.
  const schema = await connectPostgres({
    url: config.DATABASE_URL,
    entities: [],
    sqlOutbox: false,
    migrations: sagaMigrations,
    // One connection holds the migration lock, another runs the migrations.
    poolSize: 2,
  });
  try {
    const applied = await migrateDatabase(schema, 'saga');
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  } finally {
    await schema.destroy();
  }
  const sagaLog = new PgSagaLog(pool);

  const sidecar = DaprSidecar.of(config);
  const dapr = {
    daprHost: config.DAPR_HOST,
    daprPort: String(config.DAPR_GRPC_PORT),
    daprApiToken: config.DAPR_API_TOKEN,
  };
  const policy: SagaPolicy = {
    stepTimeoutMs: config.SAGA_STEP_TIMEOUT_MS,
    retryInitialMs: config.SAGA_RETRY_INITIAL_MS,
    retryMaxMs: config.SAGA_RETRY_MAX_MS,
    reservationTtlSeconds:
      config.SAGA_RESERVATION_TTL_S ?? Math.ceil((2 * config.SAGA_STEP_TIMEOUT_MS) / 1000),
  };
  const worker = new SagaWorker({
    dapr,
    logger,
    connectedWorkers: () => connectedWorkflowWorkers(sidecar),
    clients: { ...createDaprParticipants(sidecar, config.SAGA_INVOKE_TIMEOUT_MS), sagaLog },
  });
  const workflowClient = new DaprWorkflowClient(dapr);
  const service = new SagaService(new DaprSagaEngine(workflowClient), sagaLog, policy);
  const subscriber = sagaSubscriptions(logger, service);

  const app = createServiceApp({
    name: 'saga',
    port: config.APP_PORT,
    logger,
    bodyLimit: config.BODY_LIMIT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    host: config.APP_HOST,
    appApiToken: config.APP_API_TOKEN,
    readiness: [
      {
        name: 'postgres',
        check: async () => {
          await pool.query('SELECT 1');
        },
      },
      {
        name: 'workflow-runtime',
        check: () =>
          worker.connected
            ? Promise.resolve()
            : Promise.reject(new Error('workflow runtime is not connected to the sidecar')),
      },
    ],
    routes: (express) => {
      subscriber.mount(express);
      sagaRoutes({ service, log: sagaLog, verifier: JwtVerifier.fromConfig(config) })(express);
    },
    onShutdown: async () => {
      await worker.stop();
      await workflowClient.stop();
      await pool.end();
    },
  });
  await app.start();
  worker.start();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `saga failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
