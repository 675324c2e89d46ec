import { RedisSessionDenylist } from '@ecom/shared';
import type { Redis } from 'ioredis';
import type { EndedSessions } from '../domain/ports';
import { guardRedis } from './redis-guard';

/**
 * Announces ended sessions on the shared denylist in Redis. An entry lives as
 * long as a token of the session could (`tokenLifetimeSeconds`: access-token
 * TTL plus clock skew); after that every such token has expired anyway.
 */
export class RedisEndedSessions implements EndedSessions {
  private readonly denylist: RedisSessionDenylist;

  constructor(
    redis: Redis,
    private readonly tokenLifetimeSeconds: number,
  ) {
    this.denylist = new RedisSessionDenylist(redis);
  }

  async announce(sessionId: string): Promise<void> {
    await guardRedis('session denylist', this.denylist.deny(sessionId, this.tokenLifetimeSeconds));
  }
}
