import { AppError } from '@ecom/shared';
import type { Redis } from 'ioredis';
import type { LoginThrottle, ThrottleKeys } from '../domain/ports';
import { FIXED_WINDOW_INCREMENT, guardRedis } from './redis-guard';

export interface ThrottleLimits {
  /** Seconds an account waits after its n-th consecutive failure (the domain's progressive delay). */
  accountDelaySeconds: (failures: number) => number;
  maxFailuresPerClient: number;
  /** Failures after which a trusted device is trusted no more (until the window passes or it succeeds). */
  maxFailuresPerDevice: number;
  /** Lifetime of the client and device counters; an account's count lives this long after its last failure. */
  windowSeconds: number;
}

/** INCR and push the expiry out (the account's count lasts while failures go on). */
const INCREMENT_SLIDING = `
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return count`;

/**
 * Failed-login counters in Redis, shared by every replica. An account's
 * failures set a "gate" key that expires when its delay is over; an attempt
 * inside the delay finds the gate and is refused, and an attempt past it
 * claims the gate (SET NX) so that concurrent attempts share one slot. Fails
 * closed: when Redis cannot be reached the login is refused with 503 rather
 * than let an attacker guess without a limit.
 */
export class RedisLoginThrottle implements LoginThrottle {
  constructor(
    private readonly redis: Redis,
    private readonly limits: ThrottleLimits,
    private readonly prefix = 'auth:login-failures',
  ) {}

  async assertAllowed(keys: ThrottleKeys): Promise<void> {
    const [client, account, device] = await guardRedis(
      'login throttle',
      this.redis.mget(this.clientKey(keys.client), this.accountKey(keys.account), this.deviceKey(keys)),
    );
    if (Number(client ?? 0) >= this.limits.maxFailuresPerClient) {
      const ttl = await guardRedis('login throttle', this.redis.ttl(this.clientKey(keys.client)));
      throw limited(ttl > 0 ? ttl : this.limits.windowSeconds);
    }
    const trusted = keys.device !== undefined && Number(device ?? 0) < this.limits.maxFailuresPerDevice;
    if (trusted) return;
    const delay = this.limits.accountDelaySeconds(Number(account ?? 0));
    if (delay <= 0) return;
    const gate = this.gateKey(keys.account);
    const claimed = await guardRedis(
      'login throttle',
      this.redis.set(gate, '1', 'PX', Math.ceil(delay * 1000), 'NX'),
    );
    if (claimed === 'OK') return;
    const remainingMs = await guardRedis('login throttle', this.redis.pttl(gate));
    throw limited(Math.max(1, Math.ceil(remainingMs / 1000)));
  }

  async recordFailure(keys: ThrottleKeys): Promise<void> {
    const window = this.limits.windowSeconds;
    const [failures] = await guardRedis(
      'login throttle',
      Promise.all([
        this.redis.eval(INCREMENT_SLIDING, 1, this.accountKey(keys.account), window),
        this.redis.eval(FIXED_WINDOW_INCREMENT, 1, this.clientKey(keys.client), window),
        ...(keys.device === undefined
          ? []
          : [this.redis.eval(FIXED_WINDOW_INCREMENT, 1, this.deviceKey(keys), window)]),
      ]),
    );
    const delay = this.limits.accountDelaySeconds(Number(failures));
    // The wait starts at this failure, whatever slot the attempt had claimed.
    if (delay > 0)
      await guardRedis(
        'login throttle',
        this.redis.set(this.gateKey(keys.account), '1', 'PX', Math.ceil(delay * 1000)),
      );
  }

  async recordSuccess(keys: ThrottleKeys): Promise<void> {
    await guardRedis(
      'login throttle',
      this.redis.del(
        this.accountKey(keys.account),
        this.gateKey(keys.account),
        ...(keys.device === undefined ? [] : [this.deviceKey(keys)]),
      ),
    );
  }

  private accountKey(account: string): string {
    return `${this.prefix}:account:${account}`;
  }

  private gateKey(account: string): string {
    return `${this.prefix}:account-gate:${account}`;
  }

  private clientKey(client: string): string {
    return `${this.prefix}:client:${client}`;
  }

  /** A key even without a device, so the MGET keeps its shape (an absent key reads as no failures). */
  private deviceKey(keys: ThrottleKeys): string {
    return `${this.prefix}:device:${keys.device ?? '-'}`;
  }
}

function limited(retryAfterSeconds: number): AppError {
  return new AppError('RATE_LIMITED', 'too many failed login attempts; try again later', {
    retryAfterSeconds,
  });
}
