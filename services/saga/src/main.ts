import { DaprWorkflowClient } from '@dapr/dapr';
import { routeConsoleTo, runPostgresService } from '@ecom/shared';
import { sagaConfigSchema } from './config';
import type { SagaPolicy } from './domain/saga';
import { SagaService } from './domain/saga-service';
import { subscribeSagaStarts } from './events/subscriptions';
import { sagaRoutes } from './http/routes';
import { createDaprParticipants } from './participants/dapr-participants';
import { sagaEntities } from './store/entities';
import { sagaMigrations } from './store/migrations';
import { PgSagaLog } from './store/pg-saga-log';
import { DaprSagaEngine } from './workflow/dapr-saga-engine';
import { SagaWorker } from './workflow/saga-worker';
import { connectedWorkflowWorkers } from './workflow/sidecar-workflow-status';

runPostgresService({
  name: 'saga',
  configSchema: sagaConfigSchema,
  // The saga log (store/entities.ts); the saga publishes nothing of its own, so no SQL outbox.
  entities: sagaEntities,
  migrations: sagaMigrations,
  sqlOutbox: false,
  compose: ({ config, logger, dataSource, sidecar, subscriber, verifier }) => {
    // The Dapr SDK logs through console: give its lines the service's JSON shape.
    routeConsoleTo(logger);
    const sagaLog = new PgSagaLog(dataSource);
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
    const service = new SagaService(
      new DaprSagaEngine(workflowClient),
      sagaLog,
      policy,
      config.SAGA_START_VERSION,
    );
    subscribeSagaStarts(subscriber, service);

    return {
      routes: sagaRoutes({ service, log: sagaLog, verifier }),
      readiness: [
        {
          name: 'workflow-runtime',
          check: () =>
            worker.connected
              ? Promise.resolve()
              : Promise.reject(new Error('workflow runtime is not connected to the sidecar')),
        },
      ],
      onStart: () => {
        worker.start();
        return Promise.resolve();
      },
      // Before the bootstrap closes the database: the worker's activities write the saga log.
      onShutdown: async () => {
        await worker.stop();
        await workflowClient.stop();
      },
    };
  },
});
