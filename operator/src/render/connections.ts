import type { V1EnvVar } from '@kubernetes/client-node';
import type { SecretKeyRef, ServiceName } from '../api/ecom-stack';
import { names, type RenderContext } from './context';

/** A setting given inline or read from a Secret: the shape both env vars and Dapr metadata take. */
export type ValueSource = { value: string } | { secretKeyRef: SecretKeyRef };

export const PORTS = {
  kafka: 9092,
  kafkaController: 9093,
  postgres: 5432,
  mongodb: 27017,
  redis: 6379,
} as const;

/** Keys of the generated credentials Secret. */
export const CREDENTIAL_KEYS = {
  postgresPassword: 'postgres-password',
  redisPassword: 'redis-password',
  adminPassword: 'admin-password',
  postgres: (service: ServiceName) => `postgres-${service}`,
} as const;

/** The managed PostgreSQL database FerretDB keeps its documents in (as in the local stack). */
export const FERRETDB_DATABASE = 'ferretdb';
/** The replica set a managed mongod runs as (transactions and change streams need one). */
export const MONGO_REPLICA_SET = 'rs0';

/** In-cluster DNS name of a managed backend's first pod, through its headless Service. */
export function managedHost(ctx: RenderContext, backend: 'kafka' | 'postgres' | 'mongodb' | 'redis'): string {
  const svc = names.infra(ctx, backend);
  return `${svc}-0.${svc}.${ctx.namespace}.svc`;
}

export function kafkaBrokers(ctx: RenderContext): ValueSource {
  const kafka = ctx.spec.infrastructure.kafka;
  if (kafka.mode === 'external' && kafka.external) return { secretKeyRef: kafka.external.brokersSecretRef };
  return { value: `${managedHost(ctx, 'kafka')}:${PORTS.kafka}` };
}

/**
 * The connection string of a service's own database (PostgreSQL URL or MongoDB URI). A managed
 * PostgreSQL URL carries the password, so it comes from the generated Secret; a managed MongoDB URI
 * has no credentials (only the stack's pods reach the server) and follows the engine, so it is inline:
 * a Secret, written once, could not follow an engine change.
 */
export function databaseUrl(
  ctx: RenderContext,
  service: ServiceName,
  store: 'postgres' | 'mongodb',
): ValueSource {
  const infra = ctx.spec.infrastructure[store];
  if (infra.mode === 'external' && infra.external) {
    return { secretKeyRef: { name: infra.external.secretName, key: service } };
  }
  if (store === 'mongodb') return { value: managedMongoUrl(ctx, service) };
  return { secretKeyRef: { name: names.credentials(ctx), key: CREDENTIAL_KEYS.postgres(service) } };
}

/** A service's database on the managed MongoDB-protocol server: FerretDB is one plain server, mongod a replica set. */
export function managedMongoUrl(ctx: RenderContext, service: ServiceName): string {
  const base = `mongodb://${managedHost(ctx, 'mongodb')}:${PORTS.mongodb}/${service}`;
  return ctx.spec.infrastructure.mongodb.managed.engine === 'mongodb'
    ? `${base}?replicaSet=${MONGO_REPLICA_SET}`
    : base;
}

/** FerretDB's PostgreSQL URL; the kubelet fills the password in from `passwordVar` ($(VAR) expansion). */
export function ferretDbPostgresUrl(ctx: RenderContext, passwordVar: string): string {
  const host = `${managedHost(ctx, 'postgres')}:${PORTS.postgres}`;
  return `postgres://postgres:$(${passwordVar})@${host}/${FERRETDB_DATABASE}?sslmode=disable`;
}

export function redisAddress(ctx: RenderContext): ValueSource {
  const redis = ctx.spec.infrastructure.redis;
  if (redis.mode === 'external' && redis.external) return { secretKeyRef: redis.external.addressSecretRef };
  return { value: `${managedHost(ctx, 'redis')}:${PORTS.redis}` };
}

export function redisPassword(ctx: RenderContext): ValueSource | undefined {
  const redis = ctx.spec.infrastructure.redis;
  if (redis.mode === 'external') {
    return redis.external?.passwordSecretRef ? { secretKeyRef: redis.external.passwordSecretRef } : undefined;
  }
  return { secretKeyRef: { name: names.credentials(ctx), key: CREDENTIAL_KEYS.redisPassword } };
}

/**
 * REDIS_URL, as the services read it. The kubelet composes it from the address
 * and the password ($(VAR) expansion of the entries before it), so it works with
 * the Secrets as they are: the generated one keeps only the password, and an
 * external one the `host:port` and the password (which must be URL-safe, or
 * stored percent-encoded, as it becomes part of a URL).
 */
/** Redis URLs under each of `names` (REDIS_URL, AUTH_SESSION_DENYLIST_URL), composed from one set of parts. */
export function redisUrlEnv(ctx: RenderContext, names: readonly string[] = ['REDIS_URL']): V1EnvVar[] {
  const env: V1EnvVar[] = [];
  const address = redisAddress(ctx);
  let hostPort: string;
  if ('value' in address) hostPort = address.value;
  else {
    env.push(toEnv(REDIS_PARTS.address, address));
    hostPort = `$(${REDIS_PARTS.address})`;
  }
  const password = redisPassword(ctx);
  if (password) env.push(toEnv(REDIS_PARTS.password, password));
  const userInfo = password ? `:$(${REDIS_PARTS.password})@` : '';
  for (const name of names) env.push({ name, value: `redis://${userInfo}${hostPort}` });
  return env;
}

/** Variables only there to compose REDIS_URL from (the services do not read them). */
export const REDIS_PARTS = { address: 'ECOM_REDIS_ADDRESS', password: 'ECOM_REDIS_PASSWORD' } as const;

export function toEnv(name: string, source: ValueSource): V1EnvVar {
  return 'value' in source
    ? { name, value: source.value }
    : { name, valueFrom: { secretKeyRef: { ...source.secretKeyRef } } };
}

/** A Dapr component metadata item. */
export interface MetadataItem {
  name: string;
  value?: string;
  secretKeyRef?: SecretKeyRef;
}

export function toMetadata(name: string, source: ValueSource): MetadataItem {
  return 'value' in source
    ? { name, value: source.value }
    : { name, secretKeyRef: { ...source.secretKeyRef } };
}
