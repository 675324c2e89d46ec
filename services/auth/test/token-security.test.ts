import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  base64url,
  decodeJwt,
  decodeProtectedHeader,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { stateDir } from '../../../stack/src/settings';
import { call, login, registerUser, type TestUser } from './support/auth-client';

/** The running auth's current signing key, read from the local stack's secret directory (tests only). */
function realSigningKey(): { kid: string; jwk: JWK; createdAt: string } {
  const dir = path.join(stateDir, 'secrets', 'auth');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.es256.json'))
    .map(
      (f) =>
        JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
          kid: string;
          privateJwk: JWK;
          createdAt: string;
        },
    )
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  const newest = files.at(-1)!;
  return { kid: newest.kid, jwk: newest.privateJwk, createdAt: newest.createdAt };
}

async function sign(
  key: CryptoKey,
  kid: string,
  claims: { sub: string; aud?: string; iss?: string; exp?: number; iat?: number },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ roles: ['customer'], sid: 'none' })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(claims.iss ?? 'ecom-micro-auth')
    .setAudience(claims.aud ?? 'ecom-micro')
    .setSubject(claims.sub)
    .setJti(`jti-${now}-${Math.random()}`)
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 600)
    .sign(key);
}

describe('auth: forged, tampered and stale tokens are refused with 401', () => {
  let user: TestUser;
  let genuine: string;
  let realKey: { kid: string; key: CryptoKey };

  beforeAll(async () => {
    user = await registerUser();
    genuine = (await login(user.email, user.password)).accessToken;
    const real = realSigningKey();
    expect(decodeProtectedHeader(genuine).kid).toBe(real.kid);
    realKey = { kid: real.kid, key: (await importJWK(real.jwk, 'ES256')) as CryptoKey };
  });

  async function expectRefused(token: string): Promise<void> {
    const answer = await call('auth', 'GET', '/auth/me', { token });
    expect(answer.status).toBe(401);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
  }

  it('accepts the genuine token (the probe can pass)', async () => {
    expect((await call('auth', 'GET', '/auth/me', { token: genuine })).status).toBe(200);
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const [header, , signature] = genuine.split('.');
    const claims = decodeJwt(genuine);
    const forged = base64url.encode(JSON.stringify({ ...claims, roles: ['customer', 'admin'] }));
    await expectRefused(`${header}.${forged}.${signature}`);
  });

  it('refuses a token whose signature was altered', async () => {
    const [header, payload, signature] = genuine.split('.');
    const bytes = base64url.decode(signature!);
    bytes[0] = bytes[0]! ^ 0xff;
    await expectRefused(`${header}.${payload}.${base64url.encode(bytes)}`);
  });

  it('issues low-S signatures and refuses the high-S twin of a genuine token (one token, one string)', async () => {
    const order = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
    const tokens = [genuine];
    for (let i = 0; i < 7; i += 1) tokens.push((await login(user.email, user.password)).accessToken);
    for (const token of tokens) {
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const bytes = base64url.decode(signature);
      const s = BigInt(`0x${Buffer.from(bytes.subarray(32)).toString('hex')}`);
      expect(s <= order >> 1n).toBe(true);
      const twin = Buffer.concat([
        bytes.subarray(0, 32),
        Buffer.from((order - s).toString(16).padStart(64, '0'), 'hex'),
      ]);
      await expectRefused(`${header}.${payload}.${base64url.encode(twin)}`);
    }
  });

  it("refuses alg 'none'", async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: realKey.kid }));
    const payload = genuine.split('.')[1];
    await expectRefused(`${header}.${payload}.`);
  });

  it('refuses HS256 signed with the public key as the secret (algorithm confusion)', async () => {
    const jwks = await call<{ keys: JWK[] }>('auth', 'GET', '/.well-known/jwks.json');
    const secret = new TextEncoder().encode(JSON.stringify(jwks.body.keys[0]));
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256', kid: realKey.kid })
      .setIssuer('ecom-micro-auth')
      .setAudience('ecom-micro')
      .setSubject(user.userId)
      .setJti('confused')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(secret);
    await expectRefused(token);
  });

  it('refuses a token signed with another key, under an unknown kid and under the real kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    await expectRefused(await sign(privateKey, 'attacker-kid', { sub: user.userId }));
    await expectRefused(await sign(privateKey, realKey.kid, { sub: user.userId }));
  });

  it('refuses an expired token signed with the real key', async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRefused(
      await sign(realKey.key, realKey.kid, { sub: user.userId, iat: now - 3600, exp: now - 60 }),
    );
  });

  it('refuses a wrong audience and a wrong issuer, signed with the real key', async () => {
    await expectRefused(await sign(realKey.key, realKey.kid, { sub: user.userId, aud: 'someone-else' }));
    await expectRefused(
      await sign(realKey.key, realKey.kid, { sub: user.userId, iss: 'https://evil.example' }),
    );
  });

  it('refuses a missing or malformed Authorization header', async () => {
    expect((await call('auth', 'GET', '/auth/me')).status).toBe(401);
    expect(
      (await call('auth', 'GET', '/auth/me', { headers: { authorization: `Basic ${genuine}` } })).status,
    ).toBe(401);
    await expectRefused('not.a.jwt');
  });
});
