import { AppError } from '@ecom/shared';
import type { Redis } from 'ioredis';
import type { LoginThrottle, ThrottleKeys } from '../domain/ports';

export interface ThrottleLimits {
  maxFailuresPerAccount: number;
  maxFailuresPerClient: number;
  windowSeconds: number;
}

/** INCR, and start the window on the first failure only (a fixed window per key). */
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count`;

/**
 * Failed-login counters in Redis, shared by every replica. Fails closed: when
 * Redis cannot be reached the login is refused with 503 rather than let an
 * attacker guess without a limit.
 */
export class RedisLoginThrottle implements LoginThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly limits: ThrottleLimits,
    private readonly prefix = 'auth:login-failures',
  ) {}

  async assertAllowed(keys: ThrottleKeys): Promise<void> {
    const entries = [
      { key: this.accountKey(keys.account), max: this.limits.maxFailuresPerAccount },
      { key: this.clientKey(keys.client), max: this.limits.maxFailuresPerClient },
    ];
    const states = await this.guard(
      Promise.all(
        entries.map(async ({ key }) => {
          const [count, ttl] = await Promise.all([this.redis.get(key), this.redis.ttl(key)]);
          return { count: Number(count ?? 0), ttl };
        }),
      ),
    );
    let retryAfter = 0;
    states.forEach((state, i) => {
      const entry = entries[i];
      if (entry && state.count >= entry.max)
        retryAfter = Math.max(retryAfter, state.ttl > 0 ? state.ttl : this.limits.windowSeconds);
    });
    if (retryAfter > 0) {
      throw new AppError('RATE_LIMITED', 'too many failed login attempts; try again later', {
        retryAfterSeconds: retryAfter,
      });
    }
  }

  async recordFailure(keys: ThrottleKeys): Promise<void> {
    await this.guard(
      Promise.all([
        this.redis.eval(INCREMENT, 1, this.accountKey(keys.account), this.limits.windowSeconds),
        this.redis.eval(INCREMENT, 1, this.clientKey(keys.client), this.limits.windowSeconds),
      ]),
    );
  }

  async clearAccount(account: string): Promise<void> {
    await this.guard(this.redis.del(this.accountKey(account)));
  }

  private accountKey(account: string): string {
    return `${this.prefix}:account:${account}`;
  }

  private clientKey(client: string): string {
    return `${this.prefix}:client:${client}`;
  }

  private async guard<T>(operation: Promise<T>): Promise<T> {
    try {
      return await operation;
    } catch (error) {
      throw new AppError('UNAVAILABLE', 'login throttle is unavailable', {
        cause: error,
        retryAfterSeconds: 5,
      });
    }
  }
}
