import type { JwtVerifier } from '@ecom/shared';
import type { SagaLog } from '../domain/saga-log';
import type { SagaService } from '../domain/saga-service';
import { sagaRoutes } from './routes';
import { describeApiDocument } from '../../../shared/test-support/describe-api-document';

// Mounting routes calls none of their dependencies.
const verifier = {} as JwtVerifier;
const routes = sagaRoutes({ service: {} as SagaService, log: {} as SagaLog, verifier });

describeApiDocument('saga', routes);
