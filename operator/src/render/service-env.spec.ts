/**
 * What each service's pod really gets, parsed the way the service parses it at
 * start-up: the environment Kubernetes assembles from the Deployment (ConfigMap
 * envFrom, then env entries, with Secret and ConfigMap references resolved and
 * $(VAR) references expanded), given to loadConfig with the service's own
 * config schema. A service that starts requiring a variable the operator does
 * not set, or an operator variable no service reads, fails here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { V1ConfigMap, V1Deployment, V1EnvVar } from '@kubernetes/client-node';
import { loadConfig } from '@ecom/shared';
import type { z } from 'zod';
import { authServiceConfigSchema } from '../../../services/auth/src/config';
import { SigningKeyRing } from '../../../services/auth/src/keys/signing-key-ring';
import { inventoryConfigSchema } from '../../../services/inventory/src/config';
import { notificationConfigSchema } from '../../../services/notification/src/config';
import { orderConfigSchema } from '../../../services/order/src/config';
import { paymentConfigSchema } from '../../../services/payment/src/config';
import { sagaConfigSchema } from '../../../services/saga/src/config';
import { userServiceConfigSchema } from '../../../services/user/src/config';
import { edgeConfigSchema } from '../../../services/edge/src/config';
import { SERVICE_NAMES } from '../api/ecom-stack';
import { contextFor, externalInfra } from '../testing/fixtures';
import { REDIS_PARTS } from './connections';
import { names, type AppName, type RenderContext, type Rendered } from './context';
import { renderStack } from './render-stack';
import { cryptoSecretMaterial, generatedSecrets, type SecretObject } from './secrets';
import { APP_NAMES } from './service-catalog';

/** Each app's config schema, as its main.ts parses process.env with it. */
const SCHEMAS: Record<AppName, z.ZodObject> = {
  edge: edgeConfigSchema,
  auth: authServiceConfigSchema,
  user: userServiceConfigSchema,
  notification: notificationConfigSchema,
  order: orderConfigSchema,
  inventory: inventoryConfigSchema,
  payment: paymentConfigSchema,
  saga: sagaConfigSchema,
};

/** Variables the operator sets that are not service config (see buildServiceConfigMap, redisUrlEnv). */
const NOT_CONFIG = new Set(['SERVICE_NAME', 'NODE_ENV', 'ECOM_VERSION', ...Object.values(REDIS_PARTS)]);

/** Values of the Secrets a user provides (external backends, SMTP credentials): plausible stand-ins. */
const USER_SECRETS: Record<string, Record<string, string>> = {
  'pg-conn': Object.fromEntries(
    ['order', 'inventory', 'payment', 'saga'].map((s) => [
      s,
      `postgres://${s}:pw@pg.example.internal:5432/${s}?sslmode=require`,
    ]),
  ),
  'mongo-conn': Object.fromEntries(
    ['auth', 'user', 'notification'].map((s) => [
      s,
      `mongodb://${s}:pw@mongo.example.internal:27017/${s}?replicaSet=rs0`,
    ]),
  ),
  'redis-conn': { address: 'redis.example.internal:6379', password: 'r3dis-pw' },
  'smtp-credentials': { username: 'mailer', password: 'smtp-pw' },
};

interface Pod {
  deployment: V1Deployment & Rendered;
  env: Record<string, string>;
}

/** Everything one stack renders, plus its generated Secrets, and each service's pod environment. */
function podsOf(ctx: RenderContext): { pods: Record<AppName, Pod>; signingKey: SecretObject } {
  const objs = renderStack(ctx);
  const generated = generatedSecrets(ctx, cryptoSecretMaterial).map((g) => g.build());
  const signingKey = generated.find((g) => g.metadata.name === names.signingKey(ctx));
  if (!signingKey) throw new Error('no signing key Secret generated');
  const secrets = new Map<string, Record<string, string>>(Object.entries(USER_SECRETS));
  for (const s of generated) secrets.set(s.metadata.name, s.stringData);
  const configMaps = new Map<string, Record<string, string>>();
  for (const o of objs)
    if (o.kind === 'ConfigMap') configMaps.set(o.metadata.name, (o as V1ConfigMap).data ?? {});

  const lookup = (kind: string, from: Map<string, Record<string, string>>, name: string, key: string) => {
    const value = from.get(name)?.[key];
    if (value === undefined) throw new Error(`${kind} ${name} has no key ${key}`);
    return value;
  };
  const pods = {} as Record<AppName, Pod>;
  for (const o of objs) {
    if (o.kind !== 'Deployment') continue;
    const deployment = o as V1Deployment & Rendered;
    const service = deployment.spec?.template.metadata?.annotations?.['dapr.io/app-id'] as AppName;
    const containers = deployment.spec?.template.spec?.containers ?? [];
    expect(containers).toHaveLength(1);
    const container = containers[0]!;
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
      const source = from.configMapRef
        ? configMaps.get(from.configMapRef.name ?? '')
        : from.secretRef
          ? secrets.get(from.secretRef.name ?? '')
          : undefined;
      if (source === undefined) throw new Error(`${service}: envFrom of a missing object`);
      for (const [k, v] of Object.entries(source)) env[`${from.prefix ?? ''}${k}`] = v;
    }
    for (const e of container.env ?? []) env[e.name] = valueOf(e, env, lookup, secrets, configMaps);
    pods[service] = { deployment, env };
  }
  return { pods, signingKey };
}

function valueOf(
  e: V1EnvVar,
  defined: Record<string, string>,
  lookup: (kind: string, from: Map<string, Record<string, string>>, name: string, key: string) => string,
  secrets: Map<string, Record<string, string>>,
  configMaps: Map<string, Record<string, string>>,
): string {
  if (e.valueFrom?.secretKeyRef) {
    const ref = e.valueFrom.secretKeyRef;
    return lookup('Secret', secrets, ref.name ?? '', ref.key);
  }
  if (e.valueFrom?.configMapKeyRef) {
    const ref = e.valueFrom.configMapKeyRef;
    return lookup('ConfigMap', configMaps, ref.name ?? '', ref.key);
  }
  if (e.valueFrom !== undefined) throw new Error(`${e.name}: unsupported valueFrom`);
  return expand(e.value ?? '', defined);
}

/** The kubelet's expansion: $(VAR) of a variable defined before it, $$ for a literal $, anything else as is. */
function expand(value: string, defined: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) =>
    name === undefined ? '$' : (defined[name] ?? match),
  );
}

const scenarios: [string, RenderContext][] = [
  ['managed backends, defaults', contextFor()],
  [
    'external backends, SMTP with credentials, a namespace ending in a digit',
    contextFor(
      {
        infrastructure: externalInfra,
        notification: {
          email: {
            provider: 'smtp',
            from: 'shop@example.com',
            smtp: { host: 'smtp.example.com', port: 465, credentialsSecretName: 'smtp-credentials' },
          },
        },
        auth: { accessTokenTtl: '1h', refreshTokenTtl: '24h' },
      },
      'shop',
      'team-1',
    ),
  ],
];

describe.each(scenarios)('service environment (%s)', (_title, ctx) => {
  const { pods, signingKey } = podsOf(ctx);

  it('renders a pod for each of the seven services and the edge', () => {
    expect(Object.keys(pods).sort()).toEqual([...APP_NAMES].sort());
  });

  it.each(APP_NAMES)('%s: parses with its own config schema', (app) => {
    const { env } = pods[app];
    const config: Record<string, unknown> = loadConfig(SCHEMAS[app], env);
    expect(config.APP_PORT).toBe(app === 'edge' ? 8080 : 4001 + SERVICE_NAMES.indexOf(app));
    // The kubelet probes the app from outside its pod (a NetworkPolicy keeps other pods off).
    expect(config.APP_HOST).toBe('0.0.0.0');
    expect(config.DAPR_HTTP_PORT).toBe(3500);
    // Every $(VAR) was one the kubelet could expand.
    for (const [name, value] of Object.entries(env)) expect(`${name}=${value}`).not.toContain('$(');
  });

  it.each(APP_NAMES)('%s: gets no variable its schema does not read', (app) => {
    const known = new Set(Object.keys(SCHEMAS[app].shape));
    const unread = Object.keys(pods[app].env).filter((name) => !known.has(name) && !NOT_CONFIG.has(name));
    expect(unread).toEqual([]);
  });

  it.each(APP_NAMES)('%s: holds its own Dapr API token, the one its sidecar demands', (app) => {
    const { deployment, env } = pods[app];
    const secretName = deployment.spec?.template.metadata?.annotations?.['dapr.io/api-token-secret'];
    expect(secretName).toBe(`shop-${app}-dapr-api-token`);
    const config: Record<string, unknown> = loadConfig(SCHEMAS[app], env);
    expect(config.DAPR_API_TOKEN).toMatch(/^[0-9a-f]{64}$/);
    const others = APP_NAMES.filter((a) => a !== app).map((a) => pods[a].env.DAPR_API_TOKEN);
    expect(others).not.toContain(env.DAPR_API_TOKEN);
    expect(env.DAPR_API_TOKEN).not.toBe(env.APP_API_TOKEN);
  });

  it.each(SERVICE_NAMES)('%s: gets connection strings a client can use', (service) => {
    const { env } = pods[service];
    if ('DATABASE_URL' in env) expect(env.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+:[^@]+@[^/]+\/\w+/);
    else expect(env.MONGODB_URL).toMatch(/^mongodb:\/\/[^/]+\/\w+/);
    if ('REDIS_URL' in env) {
      const url = new URL(env.REDIS_URL);
      expect(url.protocol).toBe('redis:');
      expect(url.password).not.toBe('');
      expect(url.port).toBe('6379');
    }
  });

  it('points every verifying service at the session denylist in the stack’s Redis', () => {
    for (const service of SERVICE_NAMES.filter((s) => s !== 'auth')) {
      const url = new URL(pods[service].env.AUTH_SESSION_DENYLIST_URL ?? '');
      expect([url.protocol, url.port, url.password === '']).toEqual(['redis:', '6379', false]);
    }
  });

  it.each(SERVICE_NAMES)('%s: shares its app API token with its own sidecar only', (service) => {
    const { deployment, env } = pods[service];
    const secretName = deployment.spec?.template.metadata?.annotations?.['dapr.io/app-token-secret'];
    expect(secretName).toBe(`shop-${service}-app-token`);
    expect(env.APP_API_TOKEN).toMatch(/^[0-9a-f]{64}$/);
    const others = SERVICE_NAMES.filter((s) => s !== service).map((s) => pods[s].env.APP_API_TOKEN);
    expect(others).not.toContain(env.APP_API_TOKEN);
  });

  it('points every verifying service at auth’s JWKS through its own sidecar', () => {
    for (const service of SERVICE_NAMES.filter((s) => s !== 'auth')) {
      expect(pods[service].env.AUTH_JWKS_URL).toBe(
        'http://127.0.0.1:3500/v1.0/invoke/auth/method/.well-known/jwks.json',
      );
    }
  });

  it('gives auth the generated signing key, mounted read-only as its keys directory', async () => {
    const { deployment, env } = pods.auth;
    const config = loadConfig(authServiceConfigSchema, env);
    expect(config.AUTH_KEYS_WRITABLE).toBe(false);
    const spec = deployment.spec?.template.spec;
    const mount = spec?.containers[0]?.volumeMounts?.find((m) => m.mountPath === config.AUTH_KEYS_DIR);
    expect(mount?.readOnly).toBe(true);
    const volume = spec?.volumes?.find((v) => v.name === mount?.name);
    expect(volume?.secret?.secretName).toBe(signingKey.metadata.name);

    // The Secret's keys become the directory's files; auth's own key ring must load them as they are.
    const dir = mkdtempSync(path.join(tmpdir(), 'auth-keys-'));
    try {
      for (const [file, content] of Object.entries(signingKey.stringData))
        writeFileSync(path.join(dir, file), content);
      const ring = new SigningKeyRing({
        dir,
        clock: { now: () => new Date() },
        writable: config.AUTH_KEYS_WRITABLE,
        rotateAfterSeconds: config.AUTH_KEY_ROTATE_AFTER_S,
        retainAfterSupersededSeconds: config.ACCESS_TOKEN_TTL_S + config.AUTH_CLOCK_TOLERANCE_S + 60,
      });
      await ring.load();
      expect(`${ring.active().kid}.es256.json`).toBe(Object.keys(signingKey.stringData)[0]);
      expect(ring.jwks().keys).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives auth its token lifetimes in seconds and a valid admin address', () => {
    const config = loadConfig(authServiceConfigSchema, pods.auth.env);
    const { accessTokenTtl, refreshTokenTtl } = ctx.spec.auth;
    expect([accessTokenTtl, config.ACCESS_TOKEN_TTL_S]).toEqual(
      accessTokenTtl === '15m' ? ['15m', 900] : ['1h', 3600],
    );
    expect([refreshTokenTtl, config.SESSION_TTL_S]).toEqual(
      refreshTokenTtl === '720h' ? ['720h', 2_592_000] : ['24h', 86_400],
    );
    expect(config.ADMIN_EMAIL).toBe(`admin@shop.${ctx.namespace}.local`);
    expect(config.ADMIN_PASSWORD).toEqual(expect.any(String));
  });

  it('gives notification its SMTP server, or the log provider when the stack has none', () => {
    const config = loadConfig(notificationConfigSchema, pods.notification.env);
    const email = ctx.spec.notification.email;
    expect(config.NOTIFY_FROM).toBe(email.from);
    if (email.provider === 'smtp') {
      expect(config).toMatchObject({
        EMAIL_PROVIDER: 'smtp',
        SMTP_HOST: 'smtp.example.com',
        SMTP_PORT: 465,
        SMTP_SECURE: true,
        SMTP_USER: 'mailer',
        SMTP_PASSWORD: 'smtp-pw',
      });
    } else {
      expect(config.EMAIL_PROVIDER).toBe('log');
      expect([config.SMTP_HOST, config.SMTP_USER]).toEqual([undefined, undefined]);
    }
  });
});
