import { base64url, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JSONWebKeySet } from 'jose';
import { AppError } from '../errors/app-error';
import { JwtVerifier } from './jwt-verifier';

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
  function token(
    overrides: {
      aud?: string;
      iss?: string;
      exp?: number;
      nbf?: number;
      alg?: string;
      kid?: string;
      omit?: string[];
    } = {},
  ) {
    const jwt = new SignJWT({ roles: ['customer'] })
      .setProtectedHeader({ alg: overrides.alg ?? 'ES256', kid: overrides.kid ?? kid })
      .setIssuer(overrides.iss ?? 'ecom-micro-auth')
      .setAudience(overrides.aud ?? 'ecom-micro')
      .setSubject('user-1')
      .setIssuedAt(now())
      .setExpirationTime(overrides.exp ?? now() + 600);
    if (!overrides.omit?.includes('jti')) jwt.setJti('jti-1');
    if (overrides.nbf !== undefined) jwt.setNotBefore(overrides.nbf);
    return jwt.sign(key);
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
});
