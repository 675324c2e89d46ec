import { type Logger, type MongoServiceContext, redisReadiness, type ServiceParts } from '@ecom/shared';
import { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import type { UserServiceConfig } from './config';
import type { CacheOutcome } from './domain/ports';
import { ProfileService } from './domain/profile-service';
import { subscribeProfiles } from './events/subscriptions';
import { userRoutes } from './http/routes';
import { MongoProfileStore } from './store/mongo-profile-store';
import { RedisProfileCache } from './store/redis-profile-cache';

/**
 * The profile cache's Redis, failing fast while it is away (no offline queue, one try, a short
 * timeout): the cache is optional, and a read without it goes to MongoDB.
 */
export function openProfileCache(config: UserServiceConfig, logger: Logger): Redis {
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
  return redis;
}

/** The user service's parts, from the bootstrap's context and its cache (main opens it; tests pass their own). */
export async function composeUser(
  { config, logger, connection, subscriber, verifier }: MongoServiceContext<UserServiceConfig>,
  redis: Redis,
): Promise<ServiceParts> {
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
  subscribeProfiles(subscriber, profiles, logger);

  return {
    routes: userRoutes(profiles, verifier),
    // The cache is not critical: without it reads are slower, not wrong.
    readiness: [redisReadiness(redis, { name: 'redis-cache' })],
    metrics: [cacheRequests],
    onShutdown: () => {
      redis.disconnect();
      return Promise.resolve();
    },
  };
}
