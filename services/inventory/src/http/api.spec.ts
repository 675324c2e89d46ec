import type { JwtVerifier } from '@ecom/shared';
import { apiCoverage, edgeReachMismatches } from '@ecom/shared/http/api-coverage';
import type { InventoryService } from '../domain/inventory-service';
import { inventoryRoutes } from './routes';

// Mounting routes calls none of their dependencies.
const verifier = {} as JwtVerifier;
const routes = inventoryRoutes({ inventory: {} as InventoryService, verifier });

describe('inventory API document (/openapi.json)', () => {
  it('lists every route the service serves, and serves every route it lists', async () => {
    const { served, documented } = await apiCoverage('inventory', routes);
    expect(documented).toEqual(served);
  });

  it('marks as internal exactly the operations the public edge does not forward', async () => {
    const { document } = await apiCoverage('inventory', routes);
    expect(edgeReachMismatches('inventory', document)).toEqual([]);
  });
});
