import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadStackSettings } from '../../../stack/src/stack';
import type { Profile } from '../src/domain/profile';
import { RedisProfileCache } from '../src/store/redis-profile-cache';

const profile = (userId: string, name: string): Profile => ({
  userId,
  email: `${userId}@example.com`,
  name,
  phone: null,
  addresses: [],
  roles: ['customer'],
  createdAt: new Date(),
  updatedAt: new Date(),
});

describe('RedisProfileCache against the real Redis', () => {
  const redis = new Redis({ host: '127.0.0.1', port: loadStackSettings().ECOM_PORT_REDIS });
  const prefix = `test:profile:${randomUUID()}`;
  const cache = new RedisProfileCache(redis, { ttlSeconds: 60, tombstoneSeconds: 5, prefix });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('caches with a TTL and round-trips dates', async () => {
    await cache.fill(profile('u1', 'Ada'));
    const cached = await cache.get('u1');
    expect(cached).toMatchObject({ name: 'Ada' });
    expect(cached?.createdAt).toBeInstanceOf(Date);
    const ttl = await redis.ttl(`${prefix}:u1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('a slow reader cannot put back a value older than an invalidation', async () => {
    await cache.fill(profile('u2', 'Old'));
    // Reader: misses after the old entry expires, reads "Old" from the store... then the writer updates and invalidates...
    await cache.invalidate('u2');
    // ...and only now the reader fills what it read before the write.
    await cache.fill(profile('u2', 'Old'));
    await expect(cache.get('u2')).resolves.toBeUndefined();
  });

  it('remembers invalidations that failed while Redis was away and never serves those ids from the cache', async () => {
    const flaky = new Redis({
      host: '127.0.0.1',
      port: loadStackSettings().ECOM_PORT_REDIS,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    flaky.on('error', () => undefined);
    try {
      const shared = new RedisProfileCache(flaky, { ttlSeconds: 60, prefix });
      await cache.fill(profile('u3', 'Stale'));
      // Not connected yet (and no offline queue): the invalidation fails and is kept.
      const errors: unknown[] = [];
      const offline = new RedisProfileCache(flaky, {
        ttlSeconds: 60,
        prefix,
        onError: (e) => errors.push(e),
      });
      await offline.invalidate('u3');
      expect(errors).toHaveLength(1);
      await expect(cache.get('u3')).resolves.toMatchObject({ name: 'Stale' });
      // The failed command started the lazy connection; wait until it is up.
      if (flaky.status !== 'ready') await new Promise((resolve) => flaky.once('ready', resolve));
      // Connected again: the pending invalidation is applied before the cache is read.
      await expect(offline.get('u3')).resolves.toBeUndefined();
      await expect(cache.get('u3')).resolves.toBeUndefined();
      await expect(shared.get('u3')).resolves.toBeUndefined();
    } finally {
      flaky.disconnect();
    }
  });
});
