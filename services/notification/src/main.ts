import { runMongoService } from '@ecom/shared';
import { composeNotification } from './app';
import { notificationConfigSchema } from './config';

runMongoService({
  name: 'notification',
  configSchema: notificationConfigSchema,
  compose: composeNotification,
});
