import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { JwtVerifier } from '@ecom/shared';
import { JwtAccessTokenIssuer } from './jwt-access-token-issuer';
import { SigningKeyRing } from './signing-key-ring';

describe('SigningKeyRing', () => {
  let dir: string;
  let now: Date;
  const clock = { now: () => now };
  const day = 24 * 3600;

  beforeEach(async () => {
    dir = path.join(await mkdtemp(path.join(tmpdir(), 'auth-keys-')), 'secret');
    now = new Date('2026-01-01T00:00:00Z');
  });
  afterEach(async () => {
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  const ring = (writable = true) =>
    new SigningKeyRing({
      dir,
      clock,
      writable,
      rotateAfterSeconds: 30 * day,
      retainAfterSupersededSeconds: 1000,
    });
  const issuer = (keys: SigningKeyRing) =>
    new JwtAccessTokenIssuer(
      keys,
      { now: () => new Date() },
      { issuer: 'iss', audience: 'aud', ttlSeconds: 900 },
    );
  const verifierOf = (keys: SigningKeyRing) =>
    new JwtVerifier({ issuer: 'iss', audience: 'aud', keys: { jwks: keys.jwks() } });

  it('generates a private key on first start, readable by its owner only, and publishes only its public half', async () => {
    const keys = ring();
    await keys.load();
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect((await stat(path.join(dir, files[0]!))).mode & 0o777).toBe(0o600);
    const jwks = keys.jwks();
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({
      kty: 'EC',
      crv: 'P-256',
      alg: 'ES256',
      use: 'sig',
      kid: keys.active().kid,
    });
    expect(jwks.keys[0]).not.toHaveProperty('d');

    // A restart reuses the key instead of logging everyone out.
    const again = ring();
    await again.load();
    expect(again.active().kid).toBe(keys.active().kid);
  });

  it('rotates without logging anyone out: the old key stays published until its tokens expired, then goes', async () => {
    const keys = ring();
    await keys.load();
    const oldKid = keys.active().kid;
    const oldToken = (
      await issuer(keys).issue({ userId: 'u1', roles: ['customer'], sessionId: 's', tokenId: 't1' })
    ).token;

    now = new Date(now.getTime() + 31 * day * 1000);
    await keys.load();
    expect(keys.active().kid).not.toBe(oldKid);
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([oldKid, keys.active().kid]);
    await expect(verifierOf(keys).verify(oldToken)).resolves.toMatchObject({ userId: 'u1' });
    const newToken = (
      await issuer(keys).issue({ userId: 'u2', roles: ['customer'], sessionId: 's', tokenId: 't2' })
    ).token;
    await expect(verifierOf(keys).verify(newToken)).resolves.toMatchObject({ userId: 'u2' });

    now = new Date(now.getTime() + 1001 * 1000);
    await keys.load();
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([keys.active().kid]);
    await expect(verifierOf(keys).verify(oldToken)).rejects.toMatchObject({ kind: 'UNAUTHORIZED' });
  });

  it('with a read-only secret, never writes: it fails when there is no key and does not rotate', async () => {
    await expect(ring(false).load()).rejects.toThrow(/no signing key/);
    const writer = ring();
    await writer.load();
    now = new Date(now.getTime() + 90 * day * 1000);
    const reader = ring(false);
    await reader.load();
    expect(reader.active().kid).toBe(writer.active().kid);
    expect(await readdir(dir)).toHaveLength(1);
  });
});
