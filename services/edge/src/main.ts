import { runStatelessService } from '@ecom/shared';
import { edgeConfigSchema } from './config';
import { edgeRoutes } from './http/routes';

runStatelessService({
  name: 'edge',
  configSchema: edgeConfigSchema,
  // The one public port: a proxy's raw bodies, no app token (no sidecar delivers to it), and
  // nothing to serve while its sidecar is away.
  http: { rawBody: true, checkAppToken: false, sidecarCritical: true },
  compose: ({ config, logger, sidecar }) => ({
    routes: edgeRoutes({ sidecar, timeoutMs: config.EDGE_TIMEOUT_MS, logger }),
  }),
});
