import {
  createServiceApp,
  JwtVerifier,
  type Logger,
  type ServiceApp,
  mongoReadiness,
  redisReadiness,
} from '@ecom/shared';
import type { Redis } from 'ioredis';
import type { Connection } from 'mongoose';
import { Counter } from 'prom-client';
import type { UserServiceConfig } from './config';
import type { CacheOutcome } from './domain/ports';
import { ProfileService } from './domain/profile-service';
import { userSubscriptions } from './events/subscriptions';
import { userRoutes } from './http/routes';
import { MongoProfileStore } from './store/mongo-profile-store';
import { RedisProfileCache } from './store/redis-profile-cache';

export interface UserAppDeps {
  config: UserServiceConfig;
  logger: Logger;
  connection: Connection;
  redis: Redis;
}

/** Wires the user service from its connections; main.ts opens them, tests can pass their own. */
export async function createUserApp({ config, logger, connection, redis }: UserAppDeps): Promise<ServiceApp> {
  const store = new MongoProfileStore(connection);
  await store.init();

  const cacheRequests = new Counter({
    name: 'user_profile_cache_requests_total',
    help: 'Profile reads by cache outcome: hit, miss, or error (Redis unavailable; served from MongoDB).',
    labelNames: ['outcome'] as const,
    registers: [],
  });
  const onCacheError = (error: unknown) => {
    logger.warn({ err: error }, 'profile cache unavailable; serving from MongoDB');
  };
  const profiles = new ProfileService({
    store,
    cache: new RedisProfileCache(redis, { ttlSeconds: config.USER_CACHE_TTL_S, onError: onCacheError }),
    stats: {
      record: (outcome: CacheOutcome) => {
        cacheRequests.inc({ outcome });
      },
    },
    clock: { now: () => new Date() },
    onCacheError,
  });
  const subscriptions = userSubscriptions(profiles, logger);

  const service = createServiceApp({
    name: 'user',
    port: config.APP_PORT,
    logger,
    bodyLimit: config.BODY_LIMIT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    host: config.APP_HOST,
    appApiToken: config.APP_API_TOKEN,
    readiness: [
      mongoReadiness(connection),
      // The cache is not critical: without it reads are slower, not wrong.
      redisReadiness(redis, { name: 'redis-cache' }),
    ],
    routes: (app) => {
      subscriptions.mount(app);
      userRoutes(profiles, JwtVerifier.fromConfig(config))(app);
    },
    onShutdown: async () => {
      redis.disconnect();
      await connection.close();
    },
  });
  service.metrics.registerMetric(cacheRequests);
  return service;
}
