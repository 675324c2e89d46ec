import type { JwtVerifier } from '@ecom/shared';
import { apiCoverage, edgeReachMismatches } from '@ecom/shared/http/api-coverage';
import type { PaymentService } from '../domain/payment-service';
import { paymentRoutes } from './routes';

// Mounting routes calls none of their dependencies.
const verifier = {} as JwtVerifier;
const routes = paymentRoutes({ payments: {} as PaymentService, verifier });

describe('payment API document (/openapi.json)', () => {
  it('lists every route the service serves, and serves every route it lists', async () => {
    const { served, documented } = await apiCoverage('payment', routes);
    expect(documented).toEqual(served);
  });

  it('marks as internal exactly the operations the public edge does not forward', async () => {
    const { document } = await apiCoverage('payment', routes);
    expect(edgeReachMismatches('payment', document)).toEqual([]);
  });
});
