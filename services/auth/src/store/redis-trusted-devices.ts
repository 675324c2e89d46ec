import type { Redis } from 'ioredis';
import type { TrustedDevices } from '../domain/ports';
import { guardRedis } from './redis-guard';

/**
 * Device tokens in Redis: key = the token's hash, value = the account, with
 * the device lifetime as expiry (each login from the device renews it). Losing
 * them costs nothing but the shortcut: devices then wait like new ones.
 */
export class RedisTrustedDevices implements TrustedDevices {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds: number,
    private readonly prefix = 'auth:device',
  ) {}

  async accountOf(tokenHash: string): Promise<string | undefined> {
    return (await guardRedis('trusted devices', this.redis.get(this.key(tokenHash)))) ?? undefined;
  }

  async trust(tokenHash: string, account: string): Promise<void> {
    await guardRedis('trusted devices', this.redis.set(this.key(tokenHash), account, 'EX', this.ttlSeconds));
  }

  private key(tokenHash: string): string {
    return `${this.prefix}:${tokenHash}`;
  }
}
