import type { JwtVerifier } from '@ecom/shared';
import { apiCoverage, edgeReachMismatches } from '@ecom/shared/http/api-coverage';
import type { ProfileService } from '../domain/profile-service';
import { userRoutes } from './routes';

// Mounting routes calls none of their dependencies.
const verifier = {} as JwtVerifier;
const routes = userRoutes({} as ProfileService, verifier);

describe('user API document (/openapi.json)', () => {
  it('lists every route the service serves, and serves every route it lists', async () => {
    const { served, documented } = await apiCoverage('user', routes);
    expect(documented).toEqual(served);
  });

  it('marks as internal exactly the operations the public edge does not forward', async () => {
    const { document } = await apiCoverage('user', routes);
    expect(edgeReachMismatches('user', document)).toEqual([]);
  });
});
