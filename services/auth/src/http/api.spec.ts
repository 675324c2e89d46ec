import type { JwtVerifier } from '@ecom/shared';
import { apiCoverage, edgeReachMismatches } from '@ecom/shared/http/api-coverage';
import type { AuthService } from '../domain/auth-service';
import type { SigningKeyRing } from '../keys/signing-key-ring';
import { authRoutes } from './routes';

// Mounting routes calls none of their dependencies.
const verifier = {} as JwtVerifier;
const routes = authRoutes({
  auth: {} as AuthService,
  keys: {} as SigningKeyRing,
  verifier,
  recordLogin: () => undefined,
});

describe('auth API document (/openapi.json)', () => {
  it('lists every route the service serves, and serves every route it lists', async () => {
    const { served, documented } = await apiCoverage('auth', routes);
    expect(documented).toEqual(served);
  });

  it('marks as internal exactly the operations the public edge does not forward', async () => {
    const { document } = await apiCoverage('auth', routes);
    expect(edgeReachMismatches('auth', document)).toEqual([]);
  });
});
