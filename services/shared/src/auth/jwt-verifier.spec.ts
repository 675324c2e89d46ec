import { base64url, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet } from 'jose';
import { AppError } from '../errors/app-error';
import { canonicalEs256Jws, hasCanonicalEs256Signature } from './es256-signature';
import { JwtVerifier } from './jwt-verifier';
import type { SessionDenylist } from './session-denylist';

/** The order n of the P-256 group. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The token with s replaced by n − s: the other, equally valid ECDSA signature of the same content. */
function malleated(jws: string): string {
  const [header, payload, signature] = jws.split('.') as [string, string, string];
  const bytes = base64url.decode(signature);
  const s = BigInt(`0x${Buffer.from(bytes.subarray(32)).toString('hex')}`);
  const flipped = Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex');
  return `${header}.${payload}.${base64url.encode(Buffer.concat([bytes.subarray(0, 32), flipped]))}`;
}

function isHighS(jws: string): boolean {
  const bytes = base64url.decode(jws.split('.')[2] ?? '');
  return BigInt(`0x${Buffer.from(bytes.subarray(32)).toString('hex')}`) > P256_ORDER >> 1n;
}

describe('JwtVerifier', () => {
  let key: CryptoKey;
  let jwks: JSONWebKeySet;
  let verifier: JwtVerifier;
  const kid = 'key-1';

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    key = pair.privateKey;
    jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' }] };
    verifier = new JwtVerifier({
      issuer: 'ecom-micro-auth',
      audience: 'ecom-micro',
      clockToleranceSeconds: 5,
      keys: { jwks },
    });
  });

  const now = () => Math.floor(Date.now() / 1000);
  async function token(
    overrides: {
      aud?: string;
      iss?: string;
      exp?: number;
      nbf?: number;
      alg?: string;
      kid?: string;
      sid?: string;
      omit?: string[];
    } = {},
  ) {
    const jwt = new SignJWT({ roles: ['customer'], ...(overrides.sid ? { sid: overrides.sid } : {}) })
      .setProtectedHeader({ alg: overrides.alg ?? 'ES256', kid: overrides.kid ?? kid })
      .setIssuer(overrides.iss ?? 'ecom-micro-auth')
      .setAudience(overrides.aud ?? 'ecom-micro')
      .setSubject('user-1')
      .setIssuedAt(now())
      .setExpirationTime(overrides.exp ?? now() + 600);
    if (!overrides.omit?.includes('jti')) jwt.setJti('jti-1');
    if (overrides.nbf !== undefined) jwt.setNotBefore(overrides.nbf);
    // As auth signs: in the low-S form (half of raw ECDSA signatures are high-S).
    return canonicalEs256Jws(await jwt.sign(key));
  }

  async function refused(tokenText: string): Promise<AppError> {
    const error = await verifier.verify(tokenText).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).kind).toBe('UNAUTHORIZED');
    return error as AppError;
  }

  it('accepts a valid token and returns its principal', async () => {
    const text = await token();
    await expect(verifier.verify(text)).resolves.toEqual({
      userId: 'user-1',
      roles: ['customer'],
      tokenId: 'jti-1',
      token: text,
    });
  });

  it('refuses expired tokens beyond the skew, and accepts within it', async () => {
    expect((await refused(await token({ exp: now() - 30 }))).message).toBe('token expired');
    await expect(verifier.verify(await token({ exp: now() - 2 }))).resolves.toMatchObject({
      userId: 'user-1',
    });
  });

  it('refuses a token not valid yet (nbf) beyond the skew', async () => {
    await refused(await token({ nbf: now() + 120 }));
  });

  it('refuses wrong audience and wrong issuer', async () => {
    expect((await refused(await token({ aud: 'other' }))).message).toContain("'aud'");
    expect((await refused(await token({ iss: 'other' }))).message).toContain("'iss'");
  });

  it('refuses a token without jti', async () => {
    await refused(await token({ omit: ['jti'] }));
  });

  it("refuses alg 'none' and HS256 keyed with the public key", async () => {
    const valid = await token();
    const [, payload] = valid.split('.');
    await refused(`${base64url.encode(JSON.stringify({ alg: 'none', kid }))}.${payload}.`);
    const hs = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256', kid })
      .setIssuer('ecom-micro-auth')
      .setAudience('ecom-micro')
      .setSubject('user-1')
      .setJti('x')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
    await refused(hs);
  });

  it('refuses a tampered payload and a token from another key', async () => {
    const [header, , signature] = (await token()).split('.');
    const forged = base64url.encode(
      JSON.stringify({
        sub: 'admin',
        roles: ['admin'],
        jti: 'j',
        iss: 'ecom-micro-auth',
        aud: 'ecom-micro',
        iat: now(),
        exp: now() + 60,
      }),
    );
    await refused(`${header}.${forged}.${signature}`);
    const other = await generateKeyPair('ES256');
    const foreign = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setIssuer('ecom-micro-auth')
      .setAudience('ecom-micro')
      .setSubject('user-1')
      .setJti('j')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(other.privateKey);
    expect((await refused(foreign)).message).toBe('token signature is invalid');
  });

  it('accepts only the low-S form of an ES256 signature: one token, one string', async () => {
    const signed = await token();
    const [low, high] = isHighS(signed) ? [malleated(signed), signed] : [signed, malleated(signed)];
    await expect(verifier.verify(low)).resolves.toMatchObject({ userId: 'user-1' });
    expect((await refused(high)).message).toBe('token signature is not canonical (high S)');
  });

  it('canonicalEs256Jws turns any ES256 token into its low-S form, which verifies', async () => {
    for (let i = 0; i < 8; i += 1) {
      const signed = await token();
      const canonical = canonicalEs256Jws(signed);
      expect(hasCanonicalEs256Signature(canonical)).toBe(true);
      expect(isHighS(canonical)).toBe(false);
      expect(canonicalEs256Jws(malleated(signed))).toBe(canonical);
      await expect(verifier.verify(canonical)).resolves.toMatchObject({ userId: 'user-1' });
    }
    expect(hasCanonicalEs256Signature('a.b.c')).toBe(false);
  });

  it('verifies the signature of a token once, then remembers the token until it expires', async () => {
    const fresh = new JwtVerifier({
      issuer: 'ecom-micro-auth',
      audience: 'ecom-micro',
      clockToleranceSeconds: 5,
      keys: { jwks },
    });
    const text = await token({ exp: now() + 60 });
    const ecdsa = jest.spyOn(globalThis.crypto.subtle, 'verify');
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      for (let i = 0; i < 3; i++)
        await expect(fresh.verify(text)).resolves.toMatchObject({ userId: 'user-1' });
      expect(ecdsa).toHaveBeenCalledTimes(1);
      // Within the skew it is still good; past it, refused like any expired token.
      jest.setSystemTime(Date.now() + 64_000);
      await expect(fresh.verify(text)).resolves.toMatchObject({ userId: 'user-1' });
      jest.setSystemTime(Date.now() + 2_000);
      const error = await fresh.verify(text).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'UNAUTHORIZED', message: 'token expired' });
    } finally {
      jest.useRealTimers();
      ecdsa.mockRestore();
    }
  });

  describe('with a session denylist (logout reaching every service)', () => {
    const denied = new Set<string>();
    let reachable = true;
    const denylist: SessionDenylist = {
      isDenied: (sid) =>
        reachable ? Promise.resolve(denied.has(sid)) : Promise.reject(new Error('ECONNREFUSED')),
    };
    let guarded: JwtVerifier;

    beforeAll(() => {
      guarded = new JwtVerifier({
        issuer: 'ecom-micro-auth',
        audience: 'ecom-micro',
        keys: { jwks },
        denylist,
      });
    });

    it('accepts a token of a live session and names the session', async () => {
      await expect(guarded.verify(await token({ sid: 'session-live' }))).resolves.toMatchObject({
        userId: 'user-1',
        sessionId: 'session-live',
      });
    });

    it('refuses a token of a session that ended, though the token has not expired', async () => {
      const text = await token({ sid: 'session-ended' });
      await expect(guarded.verify(text)).resolves.toMatchObject({ sessionId: 'session-ended' });
      denied.add('session-ended');
      const error = await guarded.verify(text).catch((e: unknown) => e);
      expect(error).toMatchObject({ kind: 'UNAUTHORIZED', message: 'session has ended' });
      // A verifier without the list knows nothing of it (the documented 15-minute bound).
      await expect(verifier.verify(text)).resolves.toMatchObject({ userId: 'user-1' });
    });

    it('refuses a token that names no session, since it could never be revoked', async () => {
      await expect(guarded.verify(await token())).rejects.toMatchObject({ kind: 'UNAUTHORIZED' });
    });

    it('fails closed (UNAVAILABLE) when the denylist cannot be read', async () => {
      reachable = false;
      try {
        await expect(guarded.verify(await token({ sid: 'session-live' }))).rejects.toMatchObject({
          kind: 'UNAVAILABLE',
        });
      } finally {
        reachable = true;
      }
    });
  });
});
