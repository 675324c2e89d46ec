import type { JwtVerifier } from '@ecom/shared';
import type { PaymentService } from '../domain/payment-service';
import { paymentRoutes } from './routes';
import { describeApiDocument } from '../../../shared/test-support/describe-api-document';

// Mounting routes calls none of their dependencies.
const verifier = {} as JwtVerifier;
const routes = paymentRoutes({ payments: {} as PaymentService, verifier });

describeApiDocument('payment', routes);
