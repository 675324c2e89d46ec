import type { JwtVerifier } from '@ecom/shared';
import type { ProfileService } from '../domain/profile-service';
import { userRoutes } from './routes';
import { describeApiDocument } from '../../../shared/test-support/describe-api-document';

// Mounting routes calls none of their dependencies.
const verifier = {} as JwtVerifier;
const routes = userRoutes({} as ProfileService, verifier);

describeApiDocument('user', routes);
