import { DAPR_API_TOKEN_HEADER } from '../dapr/dapr-sidecar';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { z } from 'zod';
import { AppError } from '../errors/app-error';
import { hasCanonicalEs256Signature } from './es256-signature';
import { RedisSessionDenylist, type SessionDenylist } from './session-denylist';

// Re-exported here because the package index lists this module (auth signs in the canonical form and writes the denylist).
export { canonicalEs256Jws, hasCanonicalEs256Signature } from './es256-signature';
export { deniedSessionKey, RedisSessionDenylist, type SessionDenylist } from './session-denylist';

/** Who made a request, as proven by an access token from the auth service. */
export interface Principal {
  userId: string;
  roles: string[];
  /** The token's jti. */
  tokenId: string;
  /** The login session the token belongs to (`sid`): what logout and revocation end. */
  sessionId?: string;
  /** The raw bearer token, to forward on calls made on the user's behalf. */
  token: string;
}

export const authConfigSchema = z.object({
  /** The auth service's JWKS; through the sidecar by default (service invocation). */
  AUTH_JWKS_URL: z.url(),
  AUTH_ISSUER: z.string().default('ecom-micro-auth'),
  AUTH_AUDIENCE: z.string().default('ecom-micro'),
  /** Accepted clock difference for exp/nbf, in seconds. */
  AUTH_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(5),
  /**
   * Redis holding auth's denylist of ended sessions. Set, tokens of a logged-out
   * or revoked session are refused at once; unset, they work until they expire
   * (ACCESS_TOKEN_TTL_S of auth, 15 min).
   */
  AUTH_SESSION_DENYLIST_URL: z.string().min(1).optional(),
});
export type AuthConfig = z.infer<typeof authConfigSchema>;

const claimsSchema = z.object({
  sub: z.string().min(1),
  jti: z.string().min(1),
  sid: z.string().min(1).optional(),
  roles: z.array(z.string()).default([]),
});
type Claims = z.infer<typeof claimsSchema>;

/** How many verified tokens a verifier remembers (a few hundred bytes each). */
const VERIFIED_TOKENS = 10_000;
/** A verified token is checked again after this long at most: as long as a fetched key set is trusted. */
const KEYS_TRUSTED_MS = 10 * 60_000;

export interface JwtVerifierOptions {
  issuer: string;
  audience: string;
  clockToleranceSeconds?: number;
  /** Where the public keys come from: the auth service's JWKS URL, or a key set given directly (tests). */
  keys: { jwksUrl: string; headers?: Record<string, string> } | { jwks: JSONWebKeySet };
  /** Ended sessions; when given, their tokens (and tokens without a session) are refused. */
  denylist?: SessionDenylist;
}

/**
 * Verifies ES256 access tokens: the algorithm is pinned (no `none`, no HS/RS
 * confusion), signature, exp/nbf with a small skew, issuer and audience are all
 * checked, and only the low-S form of a signature is accepted (one token, one
 * string). Remote keys are cached, and refetched when a token names an unknown
 * kid, so rotation needs no restart.
 */
export class JwtVerifier {
  private readonly keySet: JWTVerifyGetKey;
  /**
   * Tokens whose signature and claims verified, by their exact text, until they expire (or the key
   * set is refetched): a client's next request with the same token skips the ECDSA verification.
   * Whether its session ended is still asked every time.
   */
  private readonly verified = new Map<string, { claims: Claims; untilMs: number }>();

  constructor(private readonly options: JwtVerifierOptions) {
    this.keySet =
      'jwksUrl' in options.keys
        ? createRemoteJWKSet(new URL(options.keys.jwksUrl), {
            cacheMaxAge: KEYS_TRUSTED_MS,
            cooldownDuration: 5_000,
            timeoutDuration: 5_000,
            headers: options.keys.headers ?? {},
          })
        : createLocalJWKSet(options.keys.jwks);
  }

  /** From the service's settings; the JWKS is fetched through its own sidecar, with the sidecar's API token. */
  static fromConfig(config: AuthConfig & { DAPR_API_TOKEN?: string }): JwtVerifier {
    const denylistUrl = config.AUTH_SESSION_DENYLIST_URL;
    const token = config.DAPR_API_TOKEN;
    return new JwtVerifier({
      issuer: config.AUTH_ISSUER,
      audience: config.AUTH_AUDIENCE,
      clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE_S,
      keys: {
        jwksUrl: config.AUTH_JWKS_URL,
        ...(token === undefined ? {} : { headers: { [DAPR_API_TOKEN_HEADER]: token } }),
      },
      ...(denylistUrl ? { denylist: RedisSessionDenylist.connect(denylistUrl) } : {}),
    });
  }

  async verify(token: string): Promise<Principal> {
    try {
      const claims = this.remembered(token) ?? (await this.verifyToken(token));
      await this.assertSessionLive(claims.sid);
      return {
        userId: claims.sub,
        roles: claims.roles,
        tokenId: claims.jti,
        ...(claims.sid ? { sessionId: claims.sid } : {}),
        token,
      };
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof errors.JWKSTimeout) {
        throw new AppError('UNAVAILABLE', 'cannot reach the auth service to verify the token', {
          cause: error,
        });
      }
      throw new AppError('UNAUTHORIZED', describe(error), { cause: error });
    }
  }

  private remembered(token: string): Claims | undefined {
    const known = this.verified.get(token);
    if (known && Date.now() < known.untilMs) return known.claims;
    if (known) this.verified.delete(token);
    return undefined;
  }

  private async verifyToken(token: string): Promise<Claims> {
    const clockToleranceSeconds = this.options.clockToleranceSeconds ?? 5;
    const { payload } = await jwtVerify(token, this.keySet, {
      algorithms: ['ES256'],
      issuer: this.options.issuer,
      audience: this.options.audience,
      clockTolerance: clockToleranceSeconds,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
    });
    // Checked once the signature verified, so a forged token is reported as such.
    if (!hasCanonicalEs256Signature(token)) throw new NonCanonicalSignature();
    const claims = claimsSchema.parse(payload);
    // jwtVerify refused it past exp + the tolerance; so does the memory.
    const expiresMs = ((payload.exp ?? 0) + clockToleranceSeconds) * 1000;
    const oldest = this.verified.size >= VERIFIED_TOKENS ? this.verified.keys().next() : undefined;
    if (oldest && !oldest.done) this.verified.delete(oldest.value);
    this.verified.set(token, { claims, untilMs: Math.min(expiresMs, Date.now() + KEYS_TRUSTED_MS) });
    return claims;
  }

  /** Closes what the verifier opened itself (the denylist's connection). */
  async close(): Promise<void> {
    await this.options.denylist?.close?.();
  }

  /** Logout and revocation reach every service: a token of an ended session is refused. */
  private async assertSessionLive(sessionId: string | undefined): Promise<void> {
    const { denylist } = this.options;
    if (!denylist) return;
    if (!sessionId) throw AppError.unauthorized('token has no session and cannot be checked for revocation');
    let denied: boolean;
    try {
      denied = await denylist.isDenied(sessionId);
    } catch (error) {
      // Fail closed: an unknown revocation state is not a valid session.
      throw new AppError('UNAVAILABLE', 'cannot check whether the session has ended', {
        cause: error,
        retryAfterSeconds: 5,
      });
    }
    if (denied) throw AppError.unauthorized('session has ended');
  }
}

/** The high-S twin of a valid signature: valid ECDSA, refused so no token has two strings. */
class NonCanonicalSignature extends Error {}

function describe(error: unknown): string {
  if (error instanceof NonCanonicalSignature) return 'token signature is not canonical (high S)';
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `token claim '${error.claim}' is invalid`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token algorithm is not allowed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'token was signed by an unknown key';
  return 'token is invalid';
}
