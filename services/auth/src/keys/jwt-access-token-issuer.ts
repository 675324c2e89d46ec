import { canonicalEs256Jws } from '@ecom/shared';
import { SignJWT } from 'jose';
import type { AccessTokenClaims, AccessTokenIssuer, Clock } from '../domain/ports';
import { SIGNING_ALG, type SigningKeyRing } from './signing-key-ring';

export interface IssuerOptions {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/**
 * ES256 access tokens in exactly the shape the shared JwtVerifier accepts:
 * header alg+kid, iss, aud, sub, iat, exp, jti, roles, plus `sid` (the session,
 * so logout can end it). The signature is put in its low-S form: verifiers
 * refuse the high-S twin, so one token has exactly one string.
 */
export class JwtAccessTokenIssuer implements AccessTokenIssuer {
  constructor(
    private readonly keys: SigningKeyRing,
    private readonly clock: Clock,
    private readonly options: IssuerOptions,
  ) {}

  async issue(claims: AccessTokenClaims): Promise<{ token: string; expiresIn: number }> {
    const key = this.keys.active();
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const signed = await new SignJWT({ roles: claims.roles, sid: claims.sessionId })
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'JWT' })
      .setIssuer(this.options.issuer)
      .setAudience(this.options.audience)
      .setSubject(claims.userId)
      .setJti(claims.tokenId)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + this.options.ttlSeconds)
      .sign(key.privateKey);
    return { token: canonicalEs256Jws(signed), expiresIn: this.options.ttlSeconds };
  }
}
