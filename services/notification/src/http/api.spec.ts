import type { JwtVerifier } from '@ecom/shared';
import { apiCoverage, edgeReachMismatches } from '@ecom/shared/http/api-coverage';
import type { NotificationStore } from '../domain/ports';
import { notificationRoutes } from './routes';

// Mounting routes calls none of their dependencies.
const verifier = {} as JwtVerifier;
const routes = notificationRoutes({} as NotificationStore, verifier);

describe('notification API document (/openapi.json)', () => {
  it('lists every route the service serves, and serves every route it lists', async () => {
    const { served, documented } = await apiCoverage('notification', routes);
    expect(documented).toEqual(served);
  });

  it('marks as internal exactly the operations the public edge does not forward', async () => {
    const { document } = await apiCoverage('notification', routes);
    expect(edgeReachMismatches('notification', document)).toEqual([]);
  });
});
