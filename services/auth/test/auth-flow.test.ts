import { randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { call, login, registerUser, type TokenPair } from './support/auth-client';

describe('auth: register, login, refresh rotation, reuse detection, logout (through Dapr)', () => {
  it('registers with a normalised, unique email and answers 409 for the same address in another spelling', async () => {
    const local = `ada-${randomUUID()}`;
    const first = await call('auth', 'POST', '/auth/register', {
      body: {
        email: `  ${local.toUpperCase()}@Example.COM `,
        password: 'a long enough passphrase',
        name: 'Ada',
      },
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ email: `${local}@example.com`, name: 'Ada', roles: ['customer'] });
    expect(first.body).not.toHaveProperty('passwordHash');

    const again = await call('auth', 'POST', '/auth/register', {
      body: { email: `${local}@example.com`, password: 'another passphrase', name: 'Ada 2' },
    });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
  });

  it('refuses invalid input with 400 naming every field, and weak or common passwords', async () => {
    const bad = await call('auth', 'POST', '/auth/register', {
      body: { email: 'not-an-email', password: 5 },
    });
    expect(bad.status).toBe(400);
    const fields = (bad.body.errors as { field: string }[]).map((e) => e.field).sort();
    expect(fields).toEqual(['email', 'name', 'password']);

    for (const password of ['short', 'Password123', 'qwertyuiop']) {
      const weak = await call('auth', 'POST', '/auth/register', {
        body: { email: `weak-${randomUUID()}@example.com`, password, name: 'Weak' },
      });
      expect(weak.status).toBe(400);
      expect(weak.body.errors).toEqual([expect.objectContaining({ field: 'password' })]);
    }

    const tooLong = await call('auth', 'POST', '/auth/register', {
      body: { email: `long-${randomUUID()}@example.com`, password: 'x'.repeat(129) + 'y', name: 'Long' },
    });
    expect(tooLong.status).toBe(400);

    const malformed = await call('auth', 'POST', '/auth/register', { rawBody: '{"email":' });
    expect(malformed.status).toBe(400);
  });

  it('gives the same answer for an unknown email and a wrong password', async () => {
    const user = await registerUser();
    const unknown = await call('auth', 'POST', '/auth/login', {
      body: { email: `nobody-${randomUUID()}@example.com`, password: user.password },
    });
    const wrong = await call('auth', 'POST', '/auth/login', {
      body: { email: user.email, password: 'wrong password!' },
    });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body.detail).toBe(wrong.body.detail);
    expect(unknown.body.title).toBe(wrong.body.title);
  });

  it('issues an ES256 access token in the shared contract and a rotating refresh token', async () => {
    const user = await registerUser('Grace');
    const tokens = await login(user.email.toUpperCase(), user.password);
    expect(tokens.tokenType).toBe('Bearer');
    expect(tokens.expiresIn).toBe(900);

    const header = decodeProtectedHeader(tokens.accessToken);
    expect(header.alg).toBe('ES256');
    expect(typeof header.kid).toBe('string');
    const claims = decodeJwt(tokens.accessToken);
    expect(claims).toMatchObject({
      iss: 'ecom-micro-auth',
      aud: 'ecom-micro',
      sub: user.userId,
      roles: ['customer'],
    });
    expect(claims.exp! - claims.iat!).toBe(900);
    expect(typeof claims.jti).toBe('string');

    const jwks = await call<{ keys: { kid: string; d?: string }[] }>('auth', 'GET', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys.map((k) => k.kid)).toContain(header.kid);
    expect(jwks.body.keys.every((k) => k.d === undefined)).toBe(true);
  });

  it('register → login → protected call → refresh → replaying the old refresh token revokes the family → logout', async () => {
    const user = await registerUser();
    const first = await login(user.email, user.password);

    const me = await call('auth', 'GET', '/auth/me', { token: first.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ userId: user.userId, email: user.email, roles: ['customer'] });
    expect((await call('auth', 'GET', '/auth/me')).status).toBe(401);

    const refreshed = await call<TokenPair>('auth', 'POST', '/auth/refresh', {
      body: { refreshToken: first.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refreshToken).not.toBe(first.refreshToken);
    expect(decodeJwt(refreshed.body.accessToken).jti).not.toBe(decodeJwt(first.accessToken).jti);
    expect((await call('auth', 'GET', '/auth/me', { token: refreshed.body.accessToken })).status).toBe(200);

    // The old token again: a replay. The whole family goes, including the token just issued.
    const replay = await call('auth', 'POST', '/auth/refresh', {
      body: { refreshToken: first.refreshToken },
    });
    expect(replay.status).toBe(401);
    const afterReplay = await call('auth', 'POST', '/auth/refresh', {
      body: { refreshToken: refreshed.body.refreshToken },
    });
    expect(afterReplay.status).toBe(401);
    expect((await call('auth', 'GET', '/auth/me', { token: refreshed.body.accessToken })).status).toBe(401);

    // A new login is a new family, unaffected; logout ends it.
    const second = await login(user.email, user.password);
    expect((await call('auth', 'GET', '/auth/me', { token: second.accessToken })).status).toBe(200);
    const logout = await call('auth', 'POST', '/auth/logout', { token: second.accessToken });
    expect(logout.status).toBe(204);
    expect(
      (await call('auth', 'POST', '/auth/refresh', { body: { refreshToken: second.refreshToken } })).status,
    ).toBe(401);
    expect((await call('auth', 'GET', '/auth/me', { token: second.accessToken })).status).toBe(401);
    expect((await call('auth', 'POST', '/auth/logout')).status).toBe(401);
  });

  it('refuses an unknown refresh token and a malformed refresh body', async () => {
    expect(
      (await call('auth', 'POST', '/auth/refresh', { body: { refreshToken: randomUUID() } })).status,
    ).toBe(401);
    const bad = await call('auth', 'POST', '/auth/refresh', { body: {} });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'refreshToken' })]);
  });

  it('seeds the admin from ADMIN_EMAIL / ADMIN_PASSWORD with the admin role', async () => {
    const admin = await login('admin@ecom.local', 'ecom-admin-local');
    expect(decodeJwt(admin.accessToken).roles).toEqual(expect.arrayContaining(['admin', 'customer']));
  });
});
