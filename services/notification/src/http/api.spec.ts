import type { JwtVerifier } from '@ecom/shared';
import type { NotificationStore } from '../domain/ports';
import { notificationRoutes } from './routes';
import { describeApiDocument } from '../../../shared/test-support/describe-api-document';

// Mounting routes calls none of their dependencies.
const verifier = {} as JwtVerifier;
const routes = notificationRoutes({} as NotificationStore, verifier);

describeApiDocument('notification', routes);
