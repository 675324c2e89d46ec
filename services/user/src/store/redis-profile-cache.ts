import type { Redis } from 'ioredis';
import type { ProfileCache } from '../domain/ports';
import type { Profile } from '../domain/profile';

export interface RedisProfileCacheOptions {
  ttlSeconds: number;
  /**
   * How long an invalidation blocks refills of the key: longer than a reader
   * can take between its store read and its cache fill, so a reader that read
   * the old value before a write can never put it back after the write.
   */
  tombstoneSeconds?: number;
  prefix?: string;
  onError?: (error: unknown) => void;
}

const TOMBSTONE = '-';

interface CachedProfile extends Omit<Profile, 'createdAt' | 'updatedAt'> {
  createdAt: string;
  updatedAt: string;
}

/**
 * Cache-aside in Redis with a TTL. An invalidation writes a short tombstone
 * instead of deleting, and fills only use SET NX, which closes the classic
 * race where a slow reader re-caches a value older than the last write. When
 * an invalidation cannot reach Redis, the id is remembered and never served
 * from the cache until the invalidation went through.
 */
export class RedisProfileCache implements ProfileCache {
  private readonly pending = new Set<string>();
  private readonly ttlSeconds: number;
  private readonly tombstoneSeconds: number;
  private readonly prefix: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisProfileCacheOptions,
  ) {
    this.ttlSeconds = options.ttlSeconds;
    this.tombstoneSeconds = options.tombstoneSeconds ?? 10;
    this.prefix = options.prefix ?? 'user:profile';
  }

  async get(userId: string): Promise<Profile | undefined> {
    await this.flushPending();
    if (this.pending.has(userId)) return undefined;
    const raw = await this.redis.get(this.key(userId));
    if (raw === null || raw === TOMBSTONE) return undefined;
    const cached = JSON.parse(raw) as CachedProfile;
    return { ...cached, createdAt: new Date(cached.createdAt), updatedAt: new Date(cached.updatedAt) };
  }

  async fill(profile: Profile): Promise<void> {
    if (this.pending.has(profile.userId)) return;
    await this.redis.set(this.key(profile.userId), JSON.stringify(profile), 'EX', this.ttlSeconds, 'NX');
  }

  async invalidate(userId: string): Promise<void> {
    try {
      await this.redis.set(this.key(userId), TOMBSTONE, 'EX', this.tombstoneSeconds);
    } catch (error) {
      this.pending.add(userId);
      this.options.onError?.(error);
    }
  }

  /** Invalidations that failed while Redis was away, retried before the cache is trusted again. */
  private async flushPending(): Promise<void> {
    for (const userId of [...this.pending]) {
      await this.redis.set(this.key(userId), TOMBSTONE, 'EX', this.tombstoneSeconds);
      this.pending.delete(userId);
    }
  }

  private key(userId: string): string {
    return `${this.prefix}:${userId}`;
  }
}
