import { randomUUID } from 'node:crypto';
import { AppError } from '@ecom/shared';
import { Redis } from 'ioredis';
import { servicePorts } from '../../../stack/src/settings';
import { loadStackSettings } from '../../../stack/src/stack';
import { RedisLoginThrottle } from '../src/store/redis-login-throttle';
import { call, login, registerUser } from './support/auth-client';

describe('auth: brute-force logins are throttled per account and per client', () => {
  it('answers 429 with Retry-After after 5 failures on one account, even for the right password', async () => {
    const user = await registerUser();
    for (let i = 0; i < 5; i += 1) {
      const answer = await call('auth', 'POST', '/auth/login', {
        body: { email: user.email, password: `guess-${i}-guess` },
      });
      expect(answer.status).toBe(401);
    }
    const blocked = await call('auth', 'POST', '/auth/login', {
      body: { email: user.email, password: 'guess-6-guess' },
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(blocked.headers.get('retry-after'))).toBeLessThanOrEqual(900);
    const rightPassword = await call('auth', 'POST', '/auth/login', {
      body: { email: user.email, password: user.password },
    });
    expect(rightPassword.status).toBe(429);

    const metrics = await (await fetch(`http://127.0.0.1:${servicePorts('auth').app}/metrics`)).text();
    expect(metrics).toMatch(/auth_login_attempts_total\{[^}]*outcome="throttled"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/auth_login_attempts_total\{[^}]*outcome="rejected"[^}]*\} [1-9]/);

    // Another account from the same client is not locked by this one's failures.
    const other = await registerUser();
    await expect(login(other.email, other.password)).resolves.toHaveProperty('accessToken');
  });

  it('a success clears the account counter so a user who mistyped is not locked later', async () => {
    const user = await registerUser();
    for (let i = 0; i < 4; i += 1) {
      expect(
        (
          await call('auth', 'POST', '/auth/login', {
            body: { email: user.email, password: `typo-${i}-typo` },
          })
        ).status,
      ).toBe(401);
    }
    await login(user.email, user.password);
    for (let i = 0; i < 4; i += 1) {
      expect(
        (
          await call('auth', 'POST', '/auth/login', {
            body: { email: user.email, password: `typo-${i}-typo` },
          })
        ).status,
      ).toBe(401);
    }
    await expect(login(user.email, user.password)).resolves.toHaveProperty('accessToken');
  });

  describe('the Redis throttle itself (per-client limit across accounts)', () => {
    const redis = new Redis({ host: '127.0.0.1', port: loadStackSettings().ECOM_PORT_REDIS });
    const prefix = `test:throttle:${randomUUID()}`;
    const throttle = new RedisLoginThrottle(
      redis,
      { maxFailuresPerAccount: 100, maxFailuresPerClient: 3, windowSeconds: 60 },
      prefix,
    );

    afterAll(async () => {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    it('locks a client that fails on many different accounts', async () => {
      const client = `203.0.113.${Math.floor(Math.random() * 200)}`;
      for (let i = 0; i < 3; i += 1) {
        const keys = { account: `victim-${i}@example.com`, client };
        await throttle.assertAllowed(keys);
        await throttle.recordFailure(keys);
      }
      const refused = await throttle
        .assertAllowed({ account: 'fresh@example.com', client })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(AppError);
      expect((refused as AppError).kind).toBe('RATE_LIMITED');
      expect((refused as AppError).retryAfterSeconds).toBeGreaterThan(0);
      await expect(
        throttle.assertAllowed({ account: 'fresh@example.com', client: '198.51.100.1' }),
      ).resolves.toBeUndefined();
    });

    it('fails closed (UNAVAILABLE) when Redis cannot be reached', async () => {
      const dead = new Redis({
        host: '127.0.0.1',
        port: 1,
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      dead.on('error', () => undefined);
      const unreachable = new RedisLoginThrottle(dead, {
        maxFailuresPerAccount: 5,
        maxFailuresPerClient: 5,
        windowSeconds: 60,
      });
      const error = await unreachable
        .assertAllowed({ account: 'a@example.com', client: 'c' })
        .catch((e: unknown) => e);
      expect((error as AppError).kind).toBe('UNAVAILABLE');
      dead.disconnect();
    });
  });
});
