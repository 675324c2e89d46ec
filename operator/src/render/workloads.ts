import { createHash } from 'node:crypto';
import type {
  V1ConfigMap,
  V1Deployment,
  V1EnvVar,
  V1Service,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { ServiceName } from '../api/ecom-stack';
import { durationSeconds } from '../api/duration';
import { CREDENTIAL_KEYS, databaseUrl, redisUrlEnv, toEnv } from './connections';
import { metadata, names, selectorLabels, type RenderContext, type Rendered } from './context';
import { APP_TOKEN_KEY } from './secrets';
import { SERVICES, type ServiceNeeds } from './service-catalog';

export type ConfigMapObject = V1ConfigMap & Rendered;
export type DeploymentObject = V1Deployment & Rendered;
export type ServiceObject = V1Service & Rendered;

/** Ports of the Dapr sidecar inside every pod. */
export const DAPR_HTTP_PORT = 3500;
export const DAPR_GRPC_PORT = 50001;
/** Annotation on the pod template with a hash of its configuration, so a config change rolls the pods. */
export const CONFIG_HASH_ANNOTATION = 'ecom-micro.io/config-hash';

export function imageOf(ctx: RenderContext, service: ServiceName): string {
  const pinned = ctx.spec.services[service].image;
  if (pinned !== undefined) return pinned;
  const { registry, tag } = ctx.spec.images;
  return `${registry.replace(/\/+$/, '')}/ecom-${service}:${tag ?? ctx.spec.version}`;
}

/** Where the auth service's signing-key Secret is mounted: its AUTH_KEYS_DIR. */
export const AUTH_KEYS_DIR = '/var/run/secrets/ecom/auth-keys';

/** auth's JWKS, through the pod's own sidecar (service invocation), as every verifying service reads it. */
export function authJwksUrl(): string {
  return `http://127.0.0.1:${DAPR_HTTP_PORT}/v1.0/invoke/auth/method/.well-known/jwks.json`;
}

/**
 * Plain settings of one service: its ConfigMap, read as environment variables.
 * The names are those of the services' config schemas (services/<id>/src/config.ts);
 * service-env.spec.ts parses what a pod gets with each of them.
 */
export function buildServiceConfigMap(ctx: RenderContext, svc: ServiceNeeds): ConfigMapObject {
  const spec = ctx.spec;
  const data: Record<string, string> = {
    // Not config: for the logs, for Node/Express, and to see which release a pod runs.
    SERVICE_NAME: svc.name,
    NODE_ENV: 'production',
    ECOM_VERSION: spec.version,
    APP_PORT: String(svc.port),
    DAPR_HOST: '127.0.0.1',
    DAPR_HTTP_PORT: String(DAPR_HTTP_PORT),
    DAPR_GRPC_PORT: String(DAPR_GRPC_PORT),
    // The services' log level follows the stack's (the same names: debug, info, warn, error).
    LOG_LEVEL: spec.dapr.logLevel,
  };
  if (svc.verifiesTokens) data.AUTH_JWKS_URL = authJwksUrl();
  if (svc.name === 'auth') {
    data.AUTH_KEYS_DIR = AUTH_KEYS_DIR;
    // A mounted Secret is read-only: the service must not try to generate or rotate keys in it.
    data.AUTH_KEYS_WRITABLE = 'false';
    data.ACCESS_TOKEN_TTL_S = String(Math.round(durationSeconds(spec.auth.accessTokenTtl)));
    data.SESSION_TTL_S = String(Math.round(durationSeconds(spec.auth.refreshTokenTtl)));
    data.ADMIN_EMAIL = `admin@${ctx.name}.${ctx.namespace}.local`;
  }
  if (svc.name === 'notification') {
    const email = spec.notification.email;
    data.NOTIFY_FROM = email.from;
    if (email.provider === 'smtp' && email.smtp) {
      data.EMAIL_PROVIDER = 'smtp';
      data.SMTP_HOST = email.smtp.host;
      data.SMTP_PORT = String(email.smtp.port);
      // 465 is SMTP over TLS from the first byte; other ports upgrade with STARTTLS when offered.
      data.SMTP_SECURE = String(email.smtp.port === 465);
    } else {
      // No mail server: each mail goes to the service's structured log.
      data.EMAIL_PROVIDER = 'log';
    }
  }
  Object.assign(data, spec.services[svc.name].env);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(ctx, names.serviceConfig(ctx, svc.name), svc.name),
    data,
  };
}

/** Environment read from Secrets: never copied into a ConfigMap. */
function secretEnv(ctx: RenderContext, svc: ServiceNeeds): V1EnvVar[] {
  const env: V1EnvVar[] = [];
  env.push(
    toEnv(svc.store === 'postgres' ? 'DATABASE_URL' : 'MONGODB_URL', databaseUrl(ctx, svc.name, svc.store)),
  );
  // The session denylist lives in the stack's Redis: a logged-out token is refused everywhere at once.
  const redisVars = [
    ...(svc.redis ? ['REDIS_URL'] : []),
    ...(svc.verifiesTokens ? ['AUTH_SESSION_DENYLIST_URL'] : []),
  ];
  if (redisVars.length > 0) env.push(...redisUrlEnv(ctx, redisVars));
  env.push(
    toEnv('APP_API_TOKEN', { secretKeyRef: { name: names.appToken(ctx, svc.name), key: APP_TOKEN_KEY } }),
  );
  if (svc.name === 'auth') {
    env.push(
      toEnv('ADMIN_PASSWORD', {
        secretKeyRef: { name: names.credentials(ctx), key: CREDENTIAL_KEYS.adminPassword },
      }),
    );
  }
  const email = ctx.spec.notification.email;
  const credentials = email.provider === 'smtp' ? email.smtp?.credentialsSecretName : undefined;
  if (svc.name === 'notification' && credentials !== undefined) {
    env.push(toEnv('SMTP_USER', { secretKeyRef: { name: credentials, key: 'username' } }));
    env.push(toEnv('SMTP_PASSWORD', { secretKeyRef: { name: credentials, key: 'password' } }));
  }
  return env;
}

function daprAnnotations(ctx: RenderContext, svc: ServiceNeeds): Record<string, string> {
  const dapr = ctx.spec.dapr;
  const annotations: Record<string, string> = {
    'dapr.io/enabled': 'true',
    'dapr.io/app-id': svc.name,
    'dapr.io/app-port': String(svc.port),
    'dapr.io/app-protocol': 'http',
    'dapr.io/config': names.daprConfig(ctx),
    'dapr.io/log-level': dapr.logLevel,
    'dapr.io/enable-metrics': 'true',
    'dapr.io/app-health-check-path': '/healthz',
    'dapr.io/enable-app-health-check': 'true',
    'dapr.io/graceful-shutdown-seconds': '20',
    // The pods mount no ServiceAccount token, which the sidecar's built-in Kubernetes secret store
    // needs; the components' secrets are resolved by Dapr's operator instead.
    'dapr.io/disable-builtin-k8s-secret-store': 'true',
    // The sidecar sends this Secret's token to the app, which trusts nothing else as its sidecar.
    'dapr.io/app-token-secret': names.appToken(ctx, svc.name),
  };
  const { requests, limits } = dapr.sidecarResources;
  if (requests?.cpu) annotations['dapr.io/sidecar-cpu-request'] = requests.cpu;
  if (requests?.memory) annotations['dapr.io/sidecar-memory-request'] = requests.memory;
  if (limits?.cpu) annotations['dapr.io/sidecar-cpu-limit'] = limits.cpu;
  if (limits?.memory) annotations['dapr.io/sidecar-memory-limit'] = limits.memory;
  return annotations;
}

/** A short, stable hash of what the pods read at start, so changing it rolls them out. */
export function configHash(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

export function buildDeployment(
  ctx: RenderContext,
  svc: ServiceNeeds,
  config: ConfigMapObject,
): DeploymentObject {
  const spec = ctx.spec.services[svc.name];
  const env = secretEnv(ctx, svc);
  const volumes: V1Volume[] = [{ name: 'tmp', emptyDir: {} }];
  const mounts: V1VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }];
  if (svc.name === 'auth') {
    volumes.push({ name: 'signing-key', secret: { secretName: names.signingKey(ctx), defaultMode: 0o440 } });
    mounts.push({ name: 'signing-key', mountPath: AUTH_KEYS_DIR, readOnly: true });
  }
  const podLabels = { ...metadata(ctx, '', svc.name).labels };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(ctx, names.service(ctx, svc.name), svc.name),
    spec: {
      replicas: spec.replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(ctx, svc.name) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: podLabels,
          annotations: {
            ...daprAnnotations(ctx, svc),
            [CONFIG_HASH_ANNOTATION]: configHash(config.data, env),
          },
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 30,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            fsGroup: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          ...(ctx.spec.images.pullSecrets.length > 0
            ? { imagePullSecrets: ctx.spec.images.pullSecrets.map((name) => ({ name })) }
            : {}),
          containers: [
            {
              name: svc.name,
              image: imageOf(ctx, svc.name),
              imagePullPolicy: ctx.spec.images.pullPolicy,
              ports: [{ name: 'http', containerPort: svc.port, protocol: 'TCP' }],
              envFrom: [{ configMapRef: { name: config.metadata.name } }],
              env,
              resources: spec.resources,
              readinessProbe: {
                httpGet: { path: '/readyz', port: 'http' },
                periodSeconds: 5,
                failureThreshold: 3,
              },
              livenessProbe: {
                httpGet: { path: '/healthz', port: 'http' },
                periodSeconds: 10,
                failureThreshold: 6,
              },
              startupProbe: {
                httpGet: { path: '/healthz', port: 'http' },
                periodSeconds: 2,
                failureThreshold: 60,
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  };
}

export function buildService(ctx: RenderContext, svc: ServiceNeeds): ServiceObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(ctx, names.service(ctx, svc.name), svc.name),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(ctx, svc.name),
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/** ConfigMap, Deployment and Service of every service. */
export function buildServices(ctx: RenderContext): Rendered[] {
  return SERVICES.flatMap((svc) => {
    const config = buildServiceConfigMap(ctx, svc);
    return [config, buildDeployment(ctx, svc, config), buildService(ctx, svc)];
  });
}
