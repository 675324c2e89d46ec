import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { servicesUsing } from './service-catalog';
import { CREDENTIAL_KEYS, managedHost, PORTS } from './connections';
import { metadata, names, type RenderContext, type Rendered } from './context';

/** Randomness behind generated secrets, injected so builders stay pure and tests deterministic. */
export interface SecretMaterial {
  /** A URL-safe random token (hex) of `bytes` random bytes. */
  token(bytes: number): string;
  /** A fresh ES256 (P-256) private key as PKCS#8 PEM. */
  es256PrivateKeyPem(): string;
}

export const cryptoSecretMaterial: SecretMaterial = {
  token: (bytes) => randomBytes(bytes).toString('hex'),
  es256PrivateKeyPem: () =>
    generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString(),
};

export interface SecretObject extends Rendered {
  type: string;
  stringData: Record<string, string>;
}

export const SIGNING_KEY_FILE = 'signing-key.pem';

/**
 * The auth service's JWT signing key. Created once, when absent, and never
 * re-applied: rotating it is a deliberate act (delete the Secret, or point
 * spec.auth.signingKeySecretName at a new one).
 */
export function buildSigningKeySecret(ctx: RenderContext, material: SecretMaterial): SecretObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(ctx, names.signingKey(ctx), 'auth'),
    type: 'Opaque',
    stringData: { [SIGNING_KEY_FILE]: material.es256PrivateKeyPem(), alg: 'ES256' },
  };
}

/**
 * Passwords of the managed backends and the connection strings built from
 * them, one per service and database, plus the admin's initial password.
 * Created once, when absent: a password must survive operator restarts.
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
  const mongoHost = `${managedHost(ctx, 'mongodb')}:${PORTS.mongodb}`;
  for (const service of servicesUsing('mongodb')) {
    data[CREDENTIAL_KEYS.mongodb(service)] = `mongodb://${mongoHost}/${service}?replicaSet=rs0`;
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: metadata(ctx, names.credentials(ctx), 'credentials'),
    type: 'Opaque',
    stringData: data,
  };
}
