import type { JwtVerifier } from '@ecom/shared';
import type { OrderService } from '../domain/order-service';
import { orderRoutes } from './routes';
import { describeApiDocument } from '../../../shared/test-support/describe-api-document';

// Mounting routes calls none of their dependencies.
const verifier = {} as JwtVerifier;
const routes = orderRoutes({ orders: {} as OrderService, verifier });

describeApiDocument('order', routes);
