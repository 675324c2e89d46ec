import { randomUUID } from 'node:crypto';
import { AppError } from '@ecom/shared';
import { Redis } from 'ioredis';
import { servicePorts } from '../../../stack/src/settings';
import { loadStackSettings } from '../../../stack/src/stack';
import { eventually } from '../../../stack/test/support/eventually';
import { accountDelaySeconds } from '../src/domain/login-delay';
import { RedisLoginThrottle } from '../src/store/redis-login-throttle';
import { RedisRegistrationThrottle } from '../src/store/redis-registration-throttle';
import { call, login, registerUser, type TestUser } from './support/auth-client';

interface LoginAnswer {
  accessToken: string;
  deviceToken: string;
}

const attempt = (email: string, password: string, deviceToken?: string) =>
  call<LoginAnswer>('auth', 'POST', '/auth/login', {
    body: { email, password, ...(deviceToken ? { deviceToken } : {}) },
  });

async function failTimes(user: TestUser, times: number): Promise<void> {
  for (let i = 0; i < times; i += 1) {
    expect((await attempt(user.email, `guess-${i}-guess`)).status).toBe(401);
  }
}

describe('auth: failed logins delay the account (progressive), lock the client, and never lock the owner out', () => {
  it('after 5 failures the account waits seconds, not 15 minutes, and then the right password works', async () => {
    const user = await registerUser();
    await failTimes(user, 5);
    const held = await attempt(user.email, 'guess-6-guess');
    expect(held.status).toBe(429);
    const retryAfter = Number(held.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(2);
    // Inside the delay even the right password waits (from a device the account does not know)...
    expect((await attempt(user.email, user.password)).status).toBe(429);
    // ...and right after it, it gets in.
    const inAgain = await eventually(
      () => attempt(user.email, user.password),
      (answer) => answer.status === 200,
      { what: 'the owner logging in after the delay', timeoutMs: 5_000, intervalMs: 250 },
    );
    expect(inAgain.body.accessToken).toEqual(expect.any(String));

    const metrics = await (await fetch(`http://127.0.0.1:${servicePorts('auth').app}/metrics`)).text();
    expect(metrics).toMatch(/auth_login_attempts_total\{[^}]*outcome="throttled"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/auth_login_attempts_total\{[^}]*outcome="rejected"[^}]*\} [1-9]/);

    // Another account from the same client is not held up by this one's failures.
    const other = await registerUser();
    await expect(login(other.email, other.password)).resolves.toHaveProperty('accessToken');
  });

  it('a device that logged in before gets in at once while someone fails on the account on purpose', async () => {
    const user = await registerUser();
    const first = await attempt(user.email, user.password);
    expect(first.status).toBe(200);
    const { deviceToken } = first.body;
    expect(deviceToken).toEqual(expect.any(String));

    await failTimes(user, 5);
    expect((await attempt(user.email, user.password)).status).toBe(429);
    const owner = await attempt(user.email, user.password, deviceToken);
    expect(owner.status).toBe(200);
    expect(owner.body.deviceToken).toBe(deviceToken);
    // A device token proves nothing without the password.
    expect((await attempt(user.email, 'still-guessing', deviceToken)).status).toBe(401);
  });

  it('a success clears the account counter so a user who mistyped is not held up later', async () => {
    const user = await registerUser();
    await failTimes(user, 4);
    await login(user.email, user.password);
    await failTimes(user, 4);
    await expect(login(user.email, user.password)).resolves.toHaveProperty('accessToken');
  });

  describe('the Redis throttles themselves', () => {
    const redis = new Redis({ host: '127.0.0.1', port: loadStackSettings().ECOM_PORT_REDIS });
    const prefix = `test:throttle:${randomUUID()}`;
    const throttleWith = (limits: Partial<ConstructorParameters<typeof RedisLoginThrottle>[1]> = {}) =>
      new RedisLoginThrottle(
        redis,
        {
          accountDelaySeconds: (failures) =>
            accountDelaySeconds(failures, { freeFailures: 2, baseSeconds: 1, maxSeconds: 4 }),
          maxFailuresPerClient: 100,
          maxFailuresPerDevice: 3,
          windowSeconds: 60,
          ...limits,
        },
        `${prefix}:${randomUUID()}`,
      );
    const refusal = (promise: Promise<unknown>) => promise.then(() => undefined).catch((e: unknown) => e);

    afterAll(async () => {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    });

    it('delays an account longer with each failure, up to the cap', async () => {
      const throttle = throttleWith();
      const keys = { account: 'victim@example.com', client: '198.51.100.7' };
      const waits: unknown[] = [];
      for (let failures = 1; failures <= 5; failures += 1) {
        await throttle.recordFailure(keys);
        const refused = await refusal(throttle.assertAllowed(keys));
        waits.push(refused instanceof AppError ? refused.retryAfterSeconds : 0);
      }
      // 2 free failures, then 1 s, 2 s, 4 s (the cap), 4 s.
      expect(waits).toEqual([0, 1, 2, 4, 4]);
    });

    it('lets concurrent attempts past a finished delay one at a time', async () => {
      const throttle = throttleWith();
      const keys = { account: `burst-${randomUUID()}@example.com`, client: '198.51.100.8' };
      for (let i = 0; i < 3; i += 1) await throttle.recordFailure(keys);
      // The delay is over (its gate key expired); now 10 attempts arrive at once.
      const gates = await redis.keys(`${prefix}:*account-gate:${keys.account}`);
      await redis.del(...gates);
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () => refusal(throttle.assertAllowed(keys))),
      );
      expect(outcomes.filter((o) => o === undefined)).toHaveLength(1);
      expect(outcomes.filter((o) => o instanceof AppError && o.kind === 'RATE_LIMITED')).toHaveLength(9);
    });

    it("lets a trusted device past the account's delay until the device itself fails too often", async () => {
      const throttle = throttleWith();
      const account = `owner-${randomUUID()}@example.com`;
      for (let i = 0; i < 4; i += 1) await throttle.recordFailure({ account, client: '203.0.113.66' });
      await expect(refusal(throttle.assertAllowed({ account, client: '192.0.2.1' }))).resolves.toBeInstanceOf(
        AppError,
      );
      const fromDevice = { account, client: '192.0.2.1', device: 'device-hash' };
      await expect(throttle.assertAllowed(fromDevice)).resolves.toBeUndefined();
      for (let i = 0; i < 3; i += 1) await throttle.recordFailure(fromDevice);
      await expect(refusal(throttle.assertAllowed(fromDevice))).resolves.toBeInstanceOf(AppError);
    });

    it('locks a client that fails on many different accounts', async () => {
      const throttle = throttleWith({ maxFailuresPerClient: 3 });
      const client = `203.0.113.${Math.floor(Math.random() * 200)}`;
      for (let i = 0; i < 3; i += 1) {
        const keys = { account: `victim-${i}@example.com`, client };
        await throttle.assertAllowed(keys);
        await throttle.recordFailure(keys);
      }
      const refused = await refusal(throttle.assertAllowed({ account: 'fresh@example.com', client }));
      expect(refused).toBeInstanceOf(AppError);
      expect((refused as AppError).kind).toBe('RATE_LIMITED');
      expect((refused as AppError).retryAfterSeconds).toBeGreaterThan(0);
      // Not even a trusted device gets past its own client's lock.
      await expect(
        refusal(throttle.assertAllowed({ account: 'fresh@example.com', client, device: 'd' })),
      ).resolves.toBeInstanceOf(AppError);
      await expect(
        throttle.assertAllowed({ account: 'fresh@example.com', client: '198.51.100.1' }),
      ).resolves.toBeUndefined();
    });

    it('answers "already registered" a bounded number of times per client', async () => {
      const registrations = new RedisRegistrationThrottle(
        redis,
        { maxDuplicates: 2, windowSeconds: 60 },
        `${prefix}:${randomUUID()}`,
      );
      for (let i = 0; i < 2; i += 1) {
        await registrations.assertAllowed('prober');
        await registrations.recordDuplicate('prober');
      }
      const refused = await refusal(registrations.assertAllowed('prober'));
      expect(refused).toMatchObject({ kind: 'RATE_LIMITED' });
      expect((refused as AppError).retryAfterSeconds).toBeGreaterThan(0);
      await expect(registrations.assertAllowed('someone-else')).resolves.toBeUndefined();
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
        accountDelaySeconds: () => 0,
        maxFailuresPerClient: 5,
        maxFailuresPerDevice: 5,
        windowSeconds: 60,
      });
      const error = await refusal(unreachable.assertAllowed({ account: 'a@example.com', client: 'c' }));
      expect((error as AppError).kind).toBe('UNAVAILABLE');
      const registrations = new RedisRegistrationThrottle(dead, { maxDuplicates: 1, windowSeconds: 60 });
      expect(await refusal(registrations.assertAllowed('c'))).toMatchObject({ kind: 'UNAVAILABLE' });
      dead.disconnect();
    });
  });
});
