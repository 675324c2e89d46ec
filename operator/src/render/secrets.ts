import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import type { ServiceName } from '../api/ecom-stack';
import { APP_NAMES, SERVICES, servicesUsing } from './service-catalog';
import { CREDENTIAL_KEYS, managedHost, PORTS } from './connections';
import { metadata, names, type AppName, type RenderContext, type Rendered } from './context';

/**
 * One ES256 signing key in the auth service's key-ring format
 * (services/auth/src/keys/signing-key-ring.ts): a JSON file named `<kid>.es256.json`.
 */
export interface SigningKeyFile {
  kid: string;
  /** ISO 8601; the newest key of the directory signs. */
  createdAt: string;
  privateJwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string; d: string };
}

/** Randomness behind generated secrets, injected so builders stay pure and tests deterministic. */
export interface SecretMaterial {
  /** A URL-safe random token (hex) of `bytes` random bytes. */
  token(bytes: number): string;
  /** A fresh ES256 (P-256) signing key, its kid the RFC 7638 thumbprint of its public key. */
  es256SigningKey(): SigningKeyFile;
}

export const cryptoSecretMaterial: SecretMaterial = {
  token: (bytes) => randomBytes(bytes).toString('hex'),
  es256SigningKey: () => {
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const { x, y, d } = jwk;
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !x || !y || !d) throw new Error('not a P-256 key');
    // RFC 7638: the required members in lexicographic order, no whitespace.
    const thumbprint = JSON.stringify({ crv: 'P-256', kty: 'EC', x, y });
    return {
      kid: createHash('sha256').update(thumbprint).digest('base64url'),
      createdAt: new Date().toISOString(),
      privateJwk: { kty: 'EC', crv: 'P-256', x, y, d },
    };
  },
};

export interface SecretObject extends Rendered {
  type: string;
  stringData: Record<string, string>;
}

/** The auth service reads every file of its keys directory with this suffix. */
export const SIGNING_KEY_FILE_SUFFIX = '.es256.json';

export function signingKeyFileName(kid: string): string {
  return `${kid}${SIGNING_KEY_FILE_SUFFIX}`;
}

/**
 * The auth service's JWT signing keys: mounted as its AUTH_KEYS_DIR, one
 * `<kid>.es256.json` per key, the newest signing. Created once, when absent,
 * and never re-applied: the service only reads it (AUTH_KEYS_WRITABLE=false),
 * so rotating is adding a newer key file to the Secret (the service reloads the
 * directory) and later removing the old one, or pointing
 * spec.auth.signingKeySecretName at a new Secret.
 */
export function buildSigningKeySecret(ctx: RenderContext, material: SecretMaterial): SecretObject {
  const key = material.es256SigningKey();
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(ctx, names.signingKey(ctx), 'auth'),
    type: 'Opaque',
    stringData: { [signingKeyFileName(key.kid)]: JSON.stringify(key) },
  };
}

/**
 * Passwords of the managed backends and the PostgreSQL connection strings built
 * from them, one per service and database, plus the admin's initial password.
 * Created once, when absent: a password must survive operator restarts. (MongoDB
 * URIs carry no password and follow the engine: see connections.ts.)
 */
export function buildCredentialsSecret(ctx: RenderContext, material: SecretMaterial): SecretObject {
  const pgPassword = material.token(24);
  const redisPassword = material.token(24);
  const data: Record<string, string> = {
    [CREDENTIAL_KEYS.postgresPassword]: pgPassword,
    [CREDENTIAL_KEYS.redisPassword]: redisPassword,
    [CREDENTIAL_KEYS.adminPassword]: material.token(12),
  };
  const pgHost = `${managedHost(ctx, 'postgres')}:${PORTS.postgres}`;
  for (const service of servicesUsing('postgres')) {
    data[CREDENTIAL_KEYS.postgres(service)] =
      `postgres://postgres:${pgPassword}@${pgHost}/${service}?sslmode=disable`;
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(ctx, names.credentials(ctx), 'credentials'),
    type: 'Opaque',
    stringData: data,
  };
}

/** One random token under key `token`, the key Dapr's injector reads token Secrets by. */
function tokenSecret(
  ctx: RenderContext,
  name: string,
  component: string,
  material: SecretMaterial,
): SecretObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(ctx, name, component),
    type: 'Opaque',
    stringData: { [APP_TOKEN_KEY]: material.token(32) },
  };
}

/**
 * The API token one service and its sidecar share: the injector hands it to daprd
 * (`dapr.io/app-token-secret`), which sends it on every request it delivers to the app, and the app
 * reads it as APP_API_TOKEN to tell its sidecar's deliveries from anyone else's requests.
 */
export function buildAppTokenSecret(
  ctx: RenderContext,
  service: ServiceName,
  material: SecretMaterial,
): SecretObject {
  return tokenSecret(ctx, names.appToken(ctx, service), service, material);
}

/**
 * The token an app presents to its own sidecar's API (invoke, publish, state, workflows): the
 * injector hands it to daprd (`dapr.io/api-token-secret`), which refuses any API call without it, and
 * the app reads it as DAPR_API_TOKEN. Another process in reach of the sidecar cannot act as the app.
 */
export function buildDaprApiTokenSecret(
  ctx: RenderContext,
  app: AppName,
  material: SecretMaterial,
): SecretObject {
  return tokenSecret(ctx, names.daprApiToken(ctx, app), app, material);
}

/** The key Dapr's injector reads a token Secret by (app token and API token alike). */
export const APP_TOKEN_KEY = 'token';
export const DAPR_API_TOKEN_KEY = APP_TOKEN_KEY;

/**
 * Every Secret the operator generates for a stack, by name: created once when absent and never
 * re-applied (a regenerated password would lock the data out).
 */
export function generatedSecrets(
  ctx: RenderContext,
  material: SecretMaterial,
): { name: string; build: () => SecretObject }[] {
  return [
    { name: names.credentials(ctx), build: () => buildCredentialsSecret(ctx, material) },
    { name: names.signingKey(ctx), build: () => buildSigningKeySecret(ctx, material) },
    ...SERVICES.map((s) => ({
      name: names.appToken(ctx, s.name),
      build: () => buildAppTokenSecret(ctx, s.name, material),
    })),
    ...APP_NAMES.map((app) => ({
      name: names.daprApiToken(ctx, app),
      build: () => buildDaprApiTokenSecret(ctx, app, material),
    })),
  ];
}
