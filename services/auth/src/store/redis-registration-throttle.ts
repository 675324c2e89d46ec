import { AppError } from '@ecom/shared';
import type { Redis } from 'ioredis';
import type { RegistrationThrottle } from '../domain/ports';
import { FIXED_WINDOW_INCREMENT, guardRedis } from './redis-guard';

/**
 * Counts, per client, the registrations answered "already exists" and refuses
 * further registrations from that client once it heard it `maxDuplicates`
 * times in the window. Fails closed like the login throttle: without Redis a
 * registration is 503, never an unlimited probe of who has an account.
 */
export class RedisRegistrationThrottle implements RegistrationThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly limits: { maxDuplicates: number; windowSeconds: number },
    private readonly prefix = 'auth:register-duplicates',
  ) {}

  async assertAllowed(client: string): Promise<void> {
    const key = this.key(client);
    const [count, ttl] = await guardRedis(
      'registration throttle',
      Promise.all([this.redis.get(key), this.redis.ttl(key)]),
    );
    if (Number(count ?? 0) < this.limits.maxDuplicates) return;
    throw new AppError('RATE_LIMITED', 'too many registrations of existing emails; try again later', {
      retryAfterSeconds: ttl > 0 ? ttl : this.limits.windowSeconds,
    });
  }

  async recordDuplicate(client: string): Promise<void> {
    await guardRedis(
      'registration throttle',
      this.redis.eval(FIXED_WINDOW_INCREMENT, 1, this.key(client), this.limits.windowSeconds),
    );
  }

  private key(client: string): string {
    return `${this.prefix}:client:${client}`;
  }
}
