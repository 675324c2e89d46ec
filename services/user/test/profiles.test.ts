import { randomUUID } from 'node:crypto';
import { buildEvent } from '@ecom/shared';
import { servicePorts } from '../../../stack/src/settings';
import { publishAsOwner } from '../../../stack/test/support/publish-as';
import { Redis } from 'ioredis';
import { loadStackSettings } from '../../../stack/src/stack';
import { consistently, eventually } from '../../../stack/test/support/eventually';
import { call, login, loginAdmin, registerUser } from '../../auth/test/support/auth-client';

interface Profile {
  userId: string;
  email: string;
  name: string;
  phone: string | null;
  addresses: unknown[];
}

async function cacheCount(outcome: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${servicePorts('user').app}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('user_profile_cache_requests_total') && l.includes(`outcome="${outcome}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('user: profiles from user_registered, cache-aside with invalidation', () => {
  const redis = new Redis({ host: '127.0.0.1', port: loadStackSettings().ECOM_PORT_REDIS });
  afterAll(() => {
    redis.disconnect();
  });

  it('creates the profile from the registration event and serves it to its owner', async () => {
    const user = await registerUser('Ada Lovelace');
    const { accessToken } = await login(user.email, user.password);
    const me = await eventually(
      () => call<Profile>('user', 'GET', '/users/me', { token: accessToken }),
      (a) => a.status === 200,
      { what: 'profile created from user_registered' },
    );
    expect(me.body).toMatchObject({
      userId: user.userId,
      email: user.email,
      name: 'Ada Lovelace',
      phone: null,
      addresses: [],
    });
    expect((await call('user', 'GET', '/users/me')).status).toBe(401);
  });

  it('a redelivered user_registered changes nothing', async () => {
    const user = await registerUser('Original Name');
    const { accessToken } = await login(user.email, user.password);
    await eventually(
      () => call<Profile>('user', 'GET', '/users/me', { token: accessToken }),
      (a) => a.status === 200,
    );
    const patched = await call<Profile>('user', 'PATCH', '/users/me', {
      token: accessToken,
      body: { name: 'Changed By User' },
    });
    expect(patched.status).toBe(200);
    const duplicate = buildEvent('user_registered', {
      userId: user.userId,
      email: user.email,
      name: 'Original Name',
      roles: ['customer'],
    });
    await publishAsOwner('user_registered', duplicate);
    await publishAsOwner('user_registered', duplicate);
    // A positive control: an event published alongside does arrive, so the duplicates were delivered too.
    const freshId = randomUUID();
    await publishAsOwner(
      'user_registered',
      buildEvent('user_registered', {
        userId: freshId,
        email: `${freshId}@example.com`,
        name: 'Fresh',
        roles: ['customer'],
      }),
    );
    const admin = await loginAdmin();
    await eventually(
      () => call('user', 'GET', `/users/${freshId}`, { token: admin.accessToken }),
      (a) => a.status === 200,
      { what: 'control event consumed' },
    );
    await consistently(
      () => call<Profile>('user', 'GET', '/users/me', { token: accessToken }),
      (a) => a.status === 200 && a.body.name === 'Changed By User',
      { durationMs: 3_000, what: 'profile untouched by a duplicate event' },
    );
  });

  it('serves repeated reads from the cache and never a stale profile after PATCH returns', async () => {
    const user = await registerUser('Cache Person');
    const { accessToken } = await login(user.email, user.password);
    await eventually(
      () => call<Profile>('user', 'GET', '/users/me', { token: accessToken }),
      (a) => a.status === 200,
    );
    const hitsBefore = await cacheCount('hit');
    await call('user', 'GET', '/users/me', { token: accessToken });
    const cached = await redis.get(`user:profile:${user.userId}`);
    expect(JSON.parse(cached!)).toMatchObject({ name: 'Cache Person' });
    await call('user', 'GET', '/users/me', { token: accessToken });
    expect(await cacheCount('hit')).toBeGreaterThan(hitsBefore);

    for (const [i, phone] of ['+4915112345678', '+14155550123', '+447911123456'].entries()) {
      const patch = await call<Profile>('user', 'PATCH', '/users/me', {
        token: accessToken,
        body: {
          name: `Renamed ${i}`,
          phone,
          addresses: [{ line1: 'Unter den Linden 1', city: 'Berlin', postalCode: '10117', country: 'DE' }],
        },
      });
      expect(patch.status).toBe(200);
      const read = await call<Profile>('user', 'GET', '/users/me', { token: accessToken });
      expect(read.body).toMatchObject({ name: `Renamed ${i}`, phone });
      expect(read.body.addresses).toHaveLength(1);
    }
  });

  it('rejects invalid patches with 400 naming the fields, and writes nothing', async () => {
    const user = await registerUser('Strict Person');
    const { accessToken } = await login(user.email, user.password);
    await eventually(
      () => call<Profile>('user', 'GET', '/users/me', { token: accessToken }),
      (a) => a.status === 200,
    );
    const bad = await call('user', 'PATCH', '/users/me', {
      token: accessToken,
      body: {
        name: 'Should Not Stick',
        phone: '0151 1234',
        addresses: [{ line1: 'x', city: 'y', postalCode: '1', country: 'germany' }],
      },
    });
    expect(bad.status).toBe(400);
    const fields = (bad.body.errors as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(['addresses.0.country', 'phone']);
    expect((await call('user', 'PATCH', '/users/me', { token: accessToken, body: {} })).status).toBe(400);
    expect(
      (await call('user', 'PATCH', '/users/me', { token: accessToken, body: { email: 'x@y.z' } })).status,
    ).toBe(400);
    const after = await call<Profile>('user', 'GET', '/users/me', { token: accessToken });
    expect(after.body.name).toBe('Strict Person');
  });

  it('GET /users/:id: self or admin only; admin lists with cursor pagination', async () => {
    const a = await registerUser('Alice');
    const b = await registerUser('Bob');
    const aTokens = await login(a.email, a.password);
    const admin = await loginAdmin();
    await eventually(
      () => call('user', 'GET', `/users/${b.userId}`, { token: admin.accessToken }),
      (r) => r.status === 200,
    );
    await eventually(
      () => call('user', 'GET', `/users/${a.userId}`, { token: aTokens.accessToken }),
      (r) => r.status === 200,
    );
    // Another customer's profile and an unknown id get the same answer: no existence oracle.
    const unknownId = randomUUID();
    const others = await call('user', 'GET', `/users/${b.userId}`, { token: aTokens.accessToken });
    const unknown = await call('user', 'GET', `/users/${unknownId}`, { token: aTokens.accessToken });
    expect([others.status, unknown.status]).toEqual([404, 404]);
    expect(others.body).toEqual({
      ...unknown.body,
      detail: `no profile for user ${b.userId}`,
      instance: `/users/${b.userId}`,
    });
    expect((await call('user', 'GET', `/users/${unknownId}`, { token: admin.accessToken })).status).toBe(404);
    expect((await call('user', 'GET', '/users', { token: aTokens.accessToken })).status).toBe(403);

    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call<{ items: Profile[]; nextCursor?: string }>(
        'user',
        'GET',
        `/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { token: admin.accessToken },
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      page.body.items.forEach((p) => {
        expect(seen.has(p.userId)).toBe(false);
        seen.add(p.userId);
      });
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 1000);
    expect(seen.has(a.userId) && seen.has(b.userId)).toBe(true);
    expect((await call('user', 'GET', '/users?limit=0', { token: admin.accessToken })).status).toBe(400);
    expect((await call('user', 'GET', '/users?cursor=%21%21', { token: admin.accessToken })).status).toBe(
      400,
    );
  });
});
