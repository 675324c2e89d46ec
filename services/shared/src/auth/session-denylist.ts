import { Redis } from 'ioredis';

/**
 * Sessions that ended (logout, revocation, a reused refresh token) while
 * access tokens issued for them may still be unexpired. The auth service
 * writes an entry per session id (`sid` claim) that lives as long as such a
 * token could; every verifier given the list refuses tokens of those sessions.
 */
export interface SessionDenylist {
  isDenied(sessionId: string): Promise<boolean>;
  /** Lets go of a connection the list opened itself. */
  close?(): Promise<void>;
}

/** The one key layout, shared by the writer (auth) and every reader. */
export function deniedSessionKey(sessionId: string): string {
  return `auth:denied-session:${sessionId}`;
}

/** The denylist in Redis: one key per ended session, expiring with the last token it could have. */
export class RedisSessionDenylist implements SessionDenylist {
  /** `owned`: the list opened this client (see `connect`) and closes it. */
  constructor(
    private readonly redis: Redis,
    private readonly owned = false,
  ) {}

  /**
   * A client of its own for a verifier. Commands wait while it (re)connects,
   * but only for one retry, so an unreachable Redis soon answers with an error.
   */
  static connect(url: string): RedisSessionDenylist {
    const redis = new Redis(url, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
    // Errors reach the caller of each command; the client's own event would otherwise crash the process.
    redis.on('error', () => undefined);
    return new RedisSessionDenylist(redis, true);
  }

  async isDenied(sessionId: string): Promise<boolean> {
    return (await this.redis.exists(deniedSessionKey(sessionId))) === 1;
  }

  /** Denies the session's tokens for `ttlSeconds` (at least the access-token lifetime plus skew). */
  async deny(sessionId: string, ttlSeconds: number): Promise<void> {
    await this.redis.set(deniedSessionKey(sessionId), '1', 'EX', ttlSeconds);
  }

  close(): Promise<void> {
    if (this.owned) this.redis.disconnect();
    return Promise.resolve();
  }
}
