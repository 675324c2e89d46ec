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

/** Who made a request, as proven by an access token from the auth service. */
export interface Principal {
  userId: string;
  roles: string[];
  /** The token's jti: lets the auth service revoke a session. */
  tokenId: string;
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
});
export type AuthConfig = z.infer<typeof authConfigSchema>;

const claimsSchema = z.object({
  sub: z.string().min(1),
  jti: z.string().min(1),
  roles: z.array(z.string()).default([]),
});

export interface JwtVerifierOptions {
  issuer: string;
  audience: string;
  clockToleranceSeconds?: number;
  /** Where the public keys come from: the auth service's JWKS URL, or a key set given directly (tests). */
  keys: { jwksUrl: string } | { jwks: JSONWebKeySet };
}

/**
 * Verifies ES256 access tokens: the algorithm is pinned (no `none`, no HS/RS
 * confusion), signature, exp/nbf with a small skew, issuer and audience are all
 * checked. Remote keys are cached, and refetched when a token names an unknown
 * kid, so rotation needs no restart.
 */
export class JwtVerifier {
  private readonly keySet: JWTVerifyGetKey;

  constructor(private readonly options: JwtVerifierOptions) {
    this.keySet =
      'jwksUrl' in options.keys
        ? createRemoteJWKSet(new URL(options.keys.jwksUrl), {
            cacheMaxAge: 10 * 60_000,
            cooldownDuration: 5_000,
            timeoutDuration: 5_000,
          })
        : createLocalJWKSet(options.keys.jwks);
  }

  static fromConfig(config: AuthConfig): JwtVerifier {
    return new JwtVerifier({
      issuer: config.AUTH_ISSUER,
      audience: config.AUTH_AUDIENCE,
      clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE_S,
      keys: { jwksUrl: config.AUTH_JWKS_URL },
    });
  }

  async verify(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.keySet, {
        algorithms: ['ES256'],
        issuer: this.options.issuer,
        audience: this.options.audience,
        clockTolerance: this.options.clockToleranceSeconds ?? 5,
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      });
      const claims = claimsSchema.parse(payload);
      return { userId: claims.sub, roles: claims.roles, tokenId: claims.jti, token };
    } catch (error) {
      if (error instanceof errors.JWKSTimeout) {
        throw new AppError('UNAVAILABLE', 'cannot reach the auth service to verify the token', {
          cause: error,
        });
      }
      throw new AppError('UNAUTHORIZED', describe(error), { cause: error });
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `token claim '${error.claim}' is invalid`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token algorithm is not allowed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'token was signed by an unknown key';
  return 'token is invalid';
}
