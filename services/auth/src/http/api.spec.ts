import type { JwtVerifier } from '@ecom/shared';
import type { AuthService } from '../domain/auth-service';
import type { SigningKeyRing } from '../keys/signing-key-ring';
import { authRoutes } from './routes';
import { describeApiDocument } from '../../../shared/test-support/describe-api-document';

// Mounting routes calls none of their dependencies.
const verifier = {} as JwtVerifier;
const routes = authRoutes({
  auth: {} as AuthService,
  keys: {} as SigningKeyRing,
  verifier,
  recordLogin: () => undefined,
});

describeApiDocument('auth', routes);
