import { createLogger, loadConfig } from '@ecom/shared';
import mongoose from 'mongoose';
import { createNotificationApp } from './app';
import { notificationConfigSchema } from './config';

async function main(): Promise<void> {
  const config = loadConfig(notificationConfigSchema);
  const logger = createLogger('notification', config.LOG_LEVEL);
  const connection = await mongoose
    .createConnection(config.MONGODB_URL, { serverSelectionTimeoutMS: 5_000 })
    .asPromise();
  const { service, dispatcher } = await createNotificationApp(config, logger, connection);
  await service.start();
  dispatcher.start();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `notification failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
