import {
  DEFAULT_ACCESS_TOKEN_TTL,
  DEFAULT_DAPR,
  DEFAULT_EDGE_RESOURCES,
  DEFAULT_KAFKA_PARTITIONS,
  DEFAULT_MANAGED,
  DEFAULT_MONGO_ENGINE,
  DEFAULT_MONGO_MANAGED,
  DEFAULT_NOTIFICATION,
  DEFAULT_PULL_POLICY,
  DEFAULT_REFRESH_TOKEN_TTL,
  DEFAULT_REGISTRY,
  DEFAULT_REPLICAS,
  DEFAULT_SERVICE_RESOURCES,
  DEFAULT_VERSION,
  MAX_ACCESS_TOKEN_TTL_S,
} from './defaults';
import { durationSeconds } from './duration';
import {
  MONGO_ENGINES,
  SERVICE_NAMES,
  type EcomStackSpec,
  type InfraMode,
  type ManagedSpec,
  type MongoEngine,
  type PullPolicy,
  type ResourceRequirements,
  type SecretKeyRef,
  type ServiceName,
  type ServiceSpec,
  type SubscriptionSpec,
} from './ecom-stack';

export type ResolveResult = { ok: true; spec: EcomStackSpec } | { ok: false; problems: string[] };

type Obj = Record<string, unknown>;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?([KMGTPE]i?|m|k)?$/;

/**
 * Reads a raw spec into a fully defaulted {@link EcomStackSpec}. The CRD schema
 * rejects most bad input up front; this is the second line, for what a schema
 * cannot say (or a cluster whose CRD is older than the operator), and it
 * collects every problem instead of stopping at the first.
 */
export function resolveSpec(raw: unknown): ResolveResult {
  const r = new Reader();
  const root = r.obj(raw, 'spec');
  const version = r.str(root, 'version', 'spec', DEFAULT_VERSION);
  const images = r.obj(root.images, 'spec.images');
  const pullPolicy = r.oneOf(
    images,
    'pullPolicy',
    'spec.images',
    ['Always', 'IfNotPresent', 'Never'],
    DEFAULT_PULL_POLICY,
  );
  const tag = r.optStr(images, 'tag', 'spec.images');
  const servicesRaw = r.obj(root.services, 'spec.services');
  for (const key of Object.keys(servicesRaw)) {
    if (!(SERVICE_NAMES as readonly string[]).includes(key))
      r.problem(`spec.services.${key}: unknown service`);
  }
  const services = Object.fromEntries(
    SERVICE_NAMES.map((name) => [
      name,
      readService(r, servicesRaw[name], `spec.services.${name}`, DEFAULT_SERVICE_RESOURCES),
    ]),
  ) as Record<ServiceName, ServiceSpec>;
  const edge = readService(r, root.edge, 'spec.edge', DEFAULT_EDGE_RESOURCES);

  const infra = r.obj(root.infrastructure, 'spec.infrastructure');
  const kafkaRaw = r.obj(infra.kafka, 'spec.infrastructure.kafka');
  const pgRaw = r.obj(infra.postgres, 'spec.infrastructure.postgres');
  const mongoRaw = r.obj(infra.mongodb, 'spec.infrastructure.mongodb');
  const redisRaw = r.obj(infra.redis, 'spec.infrastructure.redis');
  const kafkaMode = readMode(r, kafkaRaw, 'spec.infrastructure.kafka');
  const pgMode = readMode(r, pgRaw, 'spec.infrastructure.postgres');
  const mongoMode = readMode(r, mongoRaw, 'spec.infrastructure.mongodb');
  const redisMode = readMode(r, redisRaw, 'spec.infrastructure.redis');

  const kafkaExternal = r.obj(kafkaRaw.external, 'spec.infrastructure.kafka.external');
  const pgExternal = r.obj(pgRaw.external, 'spec.infrastructure.postgres.external');
  const mongoExternal = r.obj(mongoRaw.external, 'spec.infrastructure.mongodb.external');
  const redisExternal = r.obj(redisRaw.external, 'spec.infrastructure.redis.external');
  const brokersSecretRef = readSecretKeyRef(
    r,
    kafkaExternal.brokersSecretRef,
    'spec.infrastructure.kafka.external.brokersSecretRef',
    kafkaMode === 'external',
  );
  const pgSecret = r.optName(pgExternal, 'secretName', 'spec.infrastructure.postgres.external');
  const mongoSecret = r.optName(mongoExternal, 'secretName', 'spec.infrastructure.mongodb.external');
  const redisAddress = readSecretKeyRef(
    r,
    redisExternal.addressSecretRef,
    'spec.infrastructure.redis.external.addressSecretRef',
    redisMode === 'external',
  );
  const redisPassword = readSecretKeyRef(
    r,
    redisExternal.passwordSecretRef,
    'spec.infrastructure.redis.external.passwordSecretRef',
    false,
  );
  if (pgMode === 'external' && pgSecret === undefined)
    r.problem('spec.infrastructure.postgres.external.secretName: required when mode is external');
  if (mongoMode === 'external' && mongoSecret === undefined)
    r.problem('spec.infrastructure.mongodb.external.secretName: required when mode is external');
  const mongoManagedRaw = r.obj(mongoRaw.managed, 'spec.infrastructure.mongodb.managed');
  const mongoEngine = r.oneOf(
    mongoManagedRaw,
    'engine',
    'spec.infrastructure.mongodb.managed',
    MONGO_ENGINES,
    DEFAULT_MONGO_ENGINE,
  ) as MongoEngine;
  if (mongoMode === 'managed' && mongoEngine === 'ferretdb' && pgMode === 'external')
    r.problem(
      'spec.infrastructure.mongodb.managed.engine: ferretdb keeps its documents in the managed PostgreSQL; with postgres.mode external, use engine mongodb or an external MongoDB',
    );

  const dapr = r.obj(root.dapr, 'spec.dapr');
  const tracing = r.obj(dapr.tracing, 'spec.dapr.tracing');
  const res = r.obj(dapr.resiliency, 'spec.dapr.resiliency');
  const d = DEFAULT_DAPR;
  const otlpEndpoint = r.optStr(tracing, 'otlpEndpoint', 'spec.dapr.tracing');
  const samplingRate = r.str(tracing, 'samplingRate', 'spec.dapr.tracing', d.tracing.samplingRate);
  const rate = Number(samplingRate);
  if (!Number.isFinite(rate) || rate < 0 || rate > 1)
    r.problem('spec.dapr.tracing.samplingRate: must be a number from 0 to 1');

  const notification = r.obj(root.notification, 'spec.notification');
  const email = r.obj(notification.email, 'spec.notification.email');
  const emailProvider = r.oneOf(
    email,
    'provider',
    'spec.notification.email',
    ['log', 'smtp'],
    DEFAULT_NOTIFICATION.email.provider,
  );
  const smtpRaw = r.obj(email.smtp, 'spec.notification.email.smtp');
  let smtp: EcomStackSpec['notification']['email']['smtp'];
  if (emailProvider === 'smtp') {
    const host = r.optStr(smtpRaw, 'host', 'spec.notification.email.smtp');
    if (host === undefined)
      r.problem('spec.notification.email.smtp.host: required when the email provider is smtp');
    const credentialsSecretName = r.optName(smtpRaw, 'credentialsSecretName', 'spec.notification.email.smtp');
    smtp = { host: host ?? '', port: r.int(smtpRaw, 'port', 'spec.notification.email.smtp', 587, 1, 65535) };
    if (credentialsSecretName !== undefined) smtp.credentialsSecretName = credentialsSecretName;
  }
  const sms = r.obj(notification.sms, 'spec.notification.sms');
  const push = r.obj(notification.push, 'spec.notification.push');
  const auth = r.obj(root.auth, 'spec.auth');
  const signingKeySecretName = r.optName(auth, 'signingKeySecretName', 'spec.auth');
  const accessTokenTtl = r.duration(auth, 'accessTokenTtl', 'spec.auth', DEFAULT_ACCESS_TOKEN_TTL);
  const refreshTokenTtl = r.duration(auth, 'refreshTokenTtl', 'spec.auth', DEFAULT_REFRESH_TOKEN_TTL);
  // The auth service takes whole seconds, an access token living at most an hour.
  const accessSeconds = durationSeconds(accessTokenTtl);
  if (accessSeconds < 1 || accessSeconds > MAX_ACCESS_TOKEN_TTL_S)
    r.problem('spec.auth.accessTokenTtl: must be from 1s to 1h');
  if (durationSeconds(refreshTokenTtl) < 1) r.problem('spec.auth.refreshTokenTtl: must be at least 1s');

  const spec: EcomStackSpec = {
    version,
    images: {
      registry: r.str(images, 'registry', 'spec.images', DEFAULT_REGISTRY),
      pullPolicy: pullPolicy as PullPolicy,
      pullSecrets: r.names(images, 'pullSecrets', 'spec.images'),
      ...(tag === undefined ? {} : { tag }),
    },
    services,
    edge,
    infrastructure: {
      kafka: {
        mode: kafkaMode,
        managed: readManaged(r, kafkaRaw.managed, 'spec.infrastructure.kafka.managed', DEFAULT_MANAGED.kafka),
        partitions: r.int(
          kafkaRaw,
          'partitions',
          'spec.infrastructure.kafka',
          DEFAULT_KAFKA_PARTITIONS,
          1,
          1000,
        ),
        ...(brokersSecretRef === undefined ? {} : { external: { brokersSecretRef } }),
      },
      postgres: {
        mode: pgMode,
        managed: readManaged(
          r,
          pgRaw.managed,
          'spec.infrastructure.postgres.managed',
          DEFAULT_MANAGED.postgres,
        ),
        ...(pgSecret === undefined ? {} : { external: { secretName: pgSecret } }),
      },
      mongodb: {
        mode: mongoMode,
        managed: {
          engine: mongoEngine,
          ...readManaged(
            r,
            mongoManagedRaw,
            'spec.infrastructure.mongodb.managed',
            DEFAULT_MONGO_MANAGED[mongoEngine],
          ),
        },
        ...(mongoSecret === undefined ? {} : { external: { secretName: mongoSecret } }),
      },
      redis: {
        mode: redisMode,
        managed: readManaged(r, redisRaw.managed, 'spec.infrastructure.redis.managed', DEFAULT_MANAGED.redis),
        ...(redisAddress === undefined
          ? {}
          : {
              external: {
                addressSecretRef: redisAddress,
                ...(redisPassword === undefined ? {} : { passwordSecretRef: redisPassword }),
              },
            }),
      },
    },
    dapr: {
      subscriptions: readSubscriptions(r, dapr.subscriptions),
      logLevel: r.oneOf(
        dapr,
        'logLevel',
        'spec.dapr',
        ['debug', 'info', 'warn', 'error'],
        d.logLevel,
      ) as DaprSpecLogLevel,
      mtls: r.bool(dapr, 'mtls', 'spec.dapr', d.mtls),
      tracing: { samplingRate, ...(otlpEndpoint === undefined ? {} : { otlpEndpoint }) },
      resiliency: {
        timeout: r.duration(res, 'timeout', 'spec.dapr.resiliency', d.resiliency.timeout),
        maxRetries: r.int(res, 'maxRetries', 'spec.dapr.resiliency', d.resiliency.maxRetries, 0, 100),
        maxRetryInterval: r.duration(
          res,
          'maxRetryInterval',
          'spec.dapr.resiliency',
          d.resiliency.maxRetryInterval,
        ),
      },
      sidecarResources: readResources(
        r,
        dapr.sidecarResources,
        'spec.dapr.sidecarResources',
        d.sidecarResources,
      ),
    },
    notification: {
      email: {
        provider: emailProvider as 'log' | 'smtp',
        from: r.str(email, 'from', 'spec.notification.email', DEFAULT_NOTIFICATION.email.from),
        ...(smtp === undefined ? {} : { smtp }),
      },
      sms: { provider: r.oneOf(sms, 'provider', 'spec.notification.sms', ['log'], 'log') as 'log' },
      push: { provider: r.oneOf(push, 'provider', 'spec.notification.push', ['log'], 'log') as 'log' },
    },
    auth: {
      accessTokenTtl,
      refreshTokenTtl,
      ...(signingKeySecretName === undefined ? {} : { signingKeySecretName }),
    },
  };
  return r.problems.length === 0 ? { ok: true, spec } : { ok: false, problems: r.problems };
}

type DaprSpecLogLevel = EcomStackSpec['dapr']['logLevel'];

function readService(
  r: Reader,
  raw: unknown,
  path: string,
  defaultResources: ResourceRequirements,
): ServiceSpec {
  const o = r.obj(raw, path);
  const envRaw = r.obj(o.env, `${path}.env`);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(envRaw)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      r.problem(`${path}.env.${k}: not a valid environment variable name`);
    if (typeof v !== 'string') r.problem(`${path}.env.${k}: must be a string`);
    else env[k] = v;
  }
  const image = r.optStr(o, 'image', path);
  return {
    ...(image === undefined ? {} : { image }),
    replicas: r.int(o, 'replicas', path, DEFAULT_REPLICAS, 0, 100),
    resources: readResources(r, o.resources, `${path}.resources`, defaultResources),
    env,
  };
}

function readSubscriptions(r: Reader, raw: unknown): SubscriptionSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    r.problem('spec.dapr.subscriptions: must be a list');
    return [];
  }
  const seen = new Set<string>();
  return raw.flatMap((item: unknown, i): SubscriptionSpec[] => {
    const path = `spec.dapr.subscriptions[${i}]`;
    const o = r.obj(item, path);
    const name = r.optName(o, 'name', path);
    const topic = r.optStr(o, 'topic', path);
    const app = r.optStr(o, 'app', path);
    const route = r.optStr(o, 'route', path);
    const deadLetterTopic = r.optStr(o, 'deadLetterTopic', path);
    if (name === undefined || topic === undefined || app === undefined || route === undefined) {
      r.problem(`${path}: needs name, topic, app and route`);
      return [];
    }
    if (!(SERVICE_NAMES as readonly string[]).includes(app))
      r.problem(`${path}.app: unknown service "${app}"`);
    if (!route.startsWith('/')) r.problem(`${path}.route: must start with /`);
    if (seen.has(name)) r.problem(`${path}.name: duplicate "${name}"`);
    seen.add(name);
    return [
      {
        name,
        topic,
        app: app as ServiceName,
        route,
        ...(deadLetterTopic === undefined ? {} : { deadLetterTopic }),
      },
    ];
  });
}

function readMode(r: Reader, o: Obj, path: string): InfraMode {
  return r.oneOf(o, 'mode', path, ['managed', 'external'], 'managed') as InfraMode;
}

function readManaged(r: Reader, raw: unknown, path: string, dflt: ManagedSpec): ManagedSpec {
  const o = r.obj(raw, path);
  const storage = r.str(o, 'storage', path, dflt.storage);
  if (!QUANTITY.test(storage)) r.problem(`${path}.storage: not a quantity (e.g. 2Gi)`);
  const storageClassName = r.optStr(o, 'storageClassName', path);
  return {
    image: r.str(o, 'image', path, dflt.image),
    storage,
    resources: readResources(r, o.resources, `${path}.resources`, dflt.resources),
    ...(storageClassName === undefined ? {} : { storageClassName }),
  };
}

function readResources(
  r: Reader,
  raw: unknown,
  path: string,
  dflt: ResourceRequirements,
): ResourceRequirements {
  if (raw === undefined) return dflt;
  const o = r.obj(raw, path);
  const out: ResourceRequirements = {};
  for (const part of ['requests', 'limits'] as const) {
    if (o[part] === undefined) continue;
    const values = r.obj(o[part], `${path}.${part}`);
    const quantities: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) {
      const s = typeof v === 'number' ? String(v) : v;
      if (typeof s !== 'string' || !QUANTITY.test(s)) r.problem(`${path}.${part}.${k}: not a quantity`);
      else quantities[k] = s;
    }
    out[part] = quantities;
  }
  return out;
}

function readSecretKeyRef(
  r: Reader,
  raw: unknown,
  path: string,
  required: boolean,
): SecretKeyRef | undefined {
  if (raw === undefined) {
    if (required) r.problem(`${path}: required when mode is external`);
    return undefined;
  }
  const o = r.obj(raw, path);
  const name = r.optName(o, 'name', path);
  const key = r.optStr(o, 'key', path);
  if (name === undefined || key === undefined) {
    r.problem(`${path}: needs both name and key`);
    return undefined;
  }
  return { name, key };
}

/** Typed field access that records problems with their path instead of throwing. */
class Reader {
  readonly problems: string[] = [];

  problem(message: string): void {
    this.problems.push(message);
  }

  obj(raw: unknown, path: string): Obj {
    if (raw === undefined || raw === null) return {};
    if (typeof raw !== 'object' || Array.isArray(raw)) {
      this.problem(`${path}: must be an object`);
      return {};
    }
    return raw as Obj;
  }

  optStr(o: Obj, key: string, path: string): string | undefined {
    const v = o[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') {
      this.problem(`${path}.${key}: must be a string`);
      return undefined;
    }
    return v;
  }

  str(o: Obj, key: string, path: string, dflt: string): string {
    return this.optStr(o, key, path) ?? dflt;
  }

  optName(o: Obj, key: string, path: string): string | undefined {
    const v = this.optStr(o, key, path);
    if (v !== undefined && (v.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v))) {
      this.problem(`${path}.${key}: not a valid Kubernetes object name`);
      return undefined;
    }
    return v;
  }

  names(o: Obj, key: string, path: string): string[] {
    const v = o[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) {
      this.problem(`${path}.${key}: must be a list`);
      return [];
    }
    return v.filter((item, i): item is string => {
      const ok = typeof item === 'string' && DNS_LABEL.test(item);
      if (!ok) this.problem(`${path}.${key}[${i}]: not a valid Secret name`);
      return ok;
    });
  }

  oneOf(o: Obj, key: string, path: string, allowed: readonly string[], dflt: string): string {
    const v = this.str(o, key, path, dflt);
    if (!allowed.includes(v)) {
      this.problem(`${path}.${key}: must be one of ${allowed.join(', ')} (got "${v}")`);
      return dflt;
    }
    return v;
  }

  int(o: Obj, key: string, path: string, dflt: number, min: number, max: number): number {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.problem(`${path}.${key}: must be an integer from ${min} to ${max}`);
      return dflt;
    }
    return v;
  }

  bool(o: Obj, key: string, path: string, dflt: boolean): boolean {
    const v = o[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') {
      this.problem(`${path}.${key}: must be true or false`);
      return dflt;
    }
    return v;
  }

  duration(o: Obj, key: string, path: string, dflt: string): string {
    const v = this.str(o, key, path, dflt);
    if (!DURATION.test(v)) {
      this.problem(`${path}.${key}: not a duration (e.g. 500ms, 10s, 15m)`);
      return dflt;
    }
    return v;
  }
}
