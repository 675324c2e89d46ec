import { runMongoService } from '@ecom/shared';
import { composeUser, openProfileCache } from './app';
import { userServiceConfigSchema } from './config';

runMongoService({
  name: 'user',
  configSchema: userServiceConfigSchema,
  compose: (context) => composeUser(context, openProfileCache(context.config, context.logger)),
});
