import { createLogger, loadConfig } from '@ecom/shared';
import { Redis } from 'ioredis';
import mongoose from 'mongoose';
import { createUserApp } from './app';
import { userServiceConfigSchema } from './config';

async function main(): Promise<void> {
  const config = loadConfig(userServiceConfigSchema);
  const logger = createLogger('user', config.LOG_LEVEL);
  const connection = await mongoose
    .createConnection(config.MONGODB_URL, { serverSelectionTimeoutMS: 5_000 })
    .asPromise();
  // Fail fast while Redis is away (no offline queue, one try, a short timeout): the cache is optional.
  const redis = new Redis(config.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.USER_CACHE_TIMEOUT_MS,
  });
  let redisDown = false;
  redis.on('error', (error: Error) => {
    if (!redisDown) logger.warn({ err: error }, 'redis unavailable; profile cache degraded');
    redisDown = true;
  });
  redis.on('ready', () => {
    if (redisDown) logger.info('redis back; profile cache restored');
    redisDown = false;
  });
  const service = await createUserApp({ config, logger, connection, redis });
  await service.start();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `user failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
