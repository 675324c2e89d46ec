import type { JwtVerifier } from '@ecom/shared';
import { apiCoverage, edgeReachMismatches } from '@ecom/shared/http/api-coverage';
import type { SagaLog } from '../domain/saga-log';
import type { SagaService } from '../domain/saga-service';
import { sagaRoutes } from './routes';

// Mounting routes calls none of their dependencies.
const verifier = {} as JwtVerifier;
const routes = sagaRoutes({ service: {} as SagaService, log: {} as SagaLog, verifier });

describe('saga API document (/openapi.json)', () => {
  it('lists every route the service serves, and serves every route it lists', async () => {
    const { served, documented } = await apiCoverage('saga', routes);
    expect(documented).toEqual(served);
  });

  it('marks as internal exactly the operations the public edge does not forward', async () => {
    const { document } = await apiCoverage('saga', routes);
    expect(edgeReachMismatches('saga', document)).toEqual([]);
  });
});
