import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hasCanonicalEs256Signature, JwtVerifier } from '@ecom/shared';
import { JwtAccessTokenIssuer } from './jwt-access-token-issuer';
import { SigningKeyRing } from './signing-key-ring';

describe('JwtAccessTokenIssuer', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'auth-issuer-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('signs every token in the low-S form, which every service accepts', async () => {
    const keys = new SigningKeyRing({
      dir,
      clock: { now: () => new Date() },
      writable: true,
      rotateAfterSeconds: 3600,
      retainAfterSupersededSeconds: 60,
    });
    await keys.load();
    const issuer = new JwtAccessTokenIssuer(
      keys,
      { now: () => new Date() },
      { issuer: 'iss', audience: 'aud', ttlSeconds: 900 },
    );
    const verifier = new JwtVerifier({ issuer: 'iss', audience: 'aud', keys: { jwks: keys.jwks() } });
    // Raw ECDSA is high-S half of the time: 32 tokens would all be low-S by chance once in 4 billion.
    for (let i = 0; i < 32; i += 1) {
      const { token } = await issuer.issue({
        userId: 'user-1',
        roles: ['customer'],
        sessionId: 'session-1',
        tokenId: `token-${i}`,
      });
      expect(hasCanonicalEs256Signature(token)).toBe(true);
      await expect(verifier.verify(token)).resolves.toMatchObject({
        userId: 'user-1',
        tokenId: `token-${i}`,
      });
    }
  });
});
