import { runMongoService } from '@ecom/shared';
import { composeAuth } from './app';
import { authServiceConfigSchema } from './config';

runMongoService({
  name: 'auth',
  configSchema: authServiceConfigSchema,
  compose: composeAuth,
});
