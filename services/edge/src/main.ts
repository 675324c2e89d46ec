import { createLogger, createServiceApp, DaprSidecar, loadConfig, runService } from '@ecom/shared';
import { edgeConfigSchema } from './config';
import { edgeRoutes } from './http/routes';

runService('edge', async () => {
  const config = loadConfig(edgeConfigSchema);
  const logger = createLogger('edge', config.LOG_LEVEL);
  const sidecar = DaprSidecar.of(config);
  const service = createServiceApp({
    name: 'edge',
    port: config.APP_PORT,
    host: config.APP_HOST,
    logger,
    rawBody: true,
    bodyLimit: config.BODY_LIMIT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    readiness: [{ name: 'dapr', check: () => sidecar.healthz() }],
    routes: edgeRoutes({ sidecar, timeoutMs: config.EDGE_TIMEOUT_MS, logger }),
  });
  await service.start();
});
