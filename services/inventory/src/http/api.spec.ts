import type { JwtVerifier } from '@ecom/shared';
import type { InventoryService } from '../domain/inventory-service';
import { inventoryRoutes } from './routes';
import { describeApiDocument } from '../../../shared/test-support/describe-api-document';

// Mounting routes calls none of their dependencies.
const verifier = {} as JwtVerifier;
const routes = inventoryRoutes({ inventory: {} as InventoryService, verifier });

describeApiDocument('inventory', routes);
