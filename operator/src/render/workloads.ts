import { createHash } from 'node:crypto';
import type {
  V1ConfigMap,
  V1Deployment,
  V1EnvVar,
  V1PodDisruptionBudget,
  V1Service,
  V1TopologySpreadConstraint,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import { EDGE_SERVICE_PORT } from '../api/defaults';
import type { ServiceSpec } from '../api/ecom-stack';
import { durationSeconds } from '../api/duration';
import { CREDENTIAL_KEYS, databaseUrl, redisUrlEnv, toEnv } from './connections';
import { buildDaprResources } from './dapr';
import { metadata, names, selectorLabels, type AppName, type RenderContext, type Rendered } from './context';
import { APP_TOKEN_KEY, DAPR_API_TOKEN_KEY } from './secrets';
import { EDGE, SERVICES, type ServiceNeeds } from './service-catalog';

export type ConfigMapObject = V1ConfigMap & Rendered;
export type DeploymentObject = V1Deployment & Rendered;
export type ServiceObject = V1Service & Rendered;
export type DisruptionBudgetObject = V1PodDisruptionBudget & Rendered;

/**
 * Ports of the Dapr sidecar inside every pod. Its APIs (HTTP and gRPC) listen on the pod's loopback
 * only and take the app's Dapr API token; other sidecars reach it on the internal gRPC port, with mTLS.
 */
export const DAPR_HTTP_PORT = 3500;
export const DAPR_GRPC_PORT = 50001;
export const DAPR_INTERNAL_GRPC_PORT = 50002;
/** Where an app listens in its pod: every interface, as the kubelet's probes come from outside the pod. */
export const POD_APP_HOST = '0.0.0.0';
/** Annotation on the pod template with a hash of its configuration, so a config change rolls the pods. */
export const CONFIG_HASH_ANNOTATION = 'ecom-micro.io/config-hash';

/** An app's settings in the spec: its entry under spec.services, or spec.edge. */
export function appSpecOf(ctx: RenderContext, app: AppName): ServiceSpec {
  return app === EDGE.name ? ctx.spec.edge : ctx.spec.services[app];
}

export function imageOf(ctx: RenderContext, app: AppName): string {
  const pinned = appSpecOf(ctx, app).image;
  if (pinned !== undefined) return pinned;
  const { registry, tag } = ctx.spec.images;
  return `${registry.replace(/\/+$/, '')}/ecom-${app}:${tag ?? ctx.spec.version}`;
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
  const data = baseAppConfig(ctx, svc.name, svc.port);
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
  return appConfigMap(ctx, svc.name, data);
}

/**
 * How an app pod stops without failing a request (both containers get SIGTERM at once):
 * - the sidecar keeps its API and its inbound invocations up for `sidecarBlockSeconds` (it would stop
 *   at once: an edge on its way out then answered 503 for 10 s of a roll), then stops taking calls
 *   (callers' sidecars reconnect, to a pod that stays) and drains for up to `sidecarDrainSeconds`;
 * - the app keeps accepting for `appLingerSeconds`, longer than the block, each answer closing its
 *   connection (a client's keep-alive connection outlives the endpoint it was opened to); so what
 *   the sidecar still delivers, and what kube-proxy sends before it drops the endpoint, is answered.
 *   Then it drains (`appDrainSeconds` at most, its SHUTDOWN_TIMEOUT_MS) and exits;
 * - the kubelet waits for the longer of the two before it kills.
 */
const STOPPING = (() => {
  const sidecarBlockSeconds = 20;
  const sidecarDrainSeconds = 20;
  const appLingerSeconds = sidecarBlockSeconds + 2;
  const appDrainSeconds = 10;
  return {
    sidecarBlockSeconds,
    sidecarDrainSeconds,
    appLingerSeconds,
    appDrainSeconds,
    gracePeriodSeconds:
      Math.max(appLingerSeconds + appDrainSeconds, sidecarBlockSeconds + sidecarDrainSeconds) + 5,
  };
})();

/** What every app reads, the edge included: who it is, where it listens, where its sidecar is. */
function baseAppConfig(ctx: RenderContext, app: AppName, port: number): Record<string, string> {
  return {
    // Not config: for the logs, for Node/Express, and to see which release a pod runs.
    SERVICE_NAME: app,
    NODE_ENV: 'production',
    ECOM_VERSION: ctx.spec.version,
    APP_PORT: String(port),
    APP_HOST: POD_APP_HOST,
    DAPR_HOST: '127.0.0.1',
    DAPR_HTTP_PORT: String(DAPR_HTTP_PORT),
    DAPR_GRPC_PORT: String(DAPR_GRPC_PORT),
    // The apps' log level follows the stack's (the same names: debug, info, warn, error).
    LOG_LEVEL: ctx.spec.dapr.logLevel,
    SHUTDOWN_LINGER_MS: String(STOPPING.appLingerSeconds * 1000),
    SHUTDOWN_TIMEOUT_MS: String(STOPPING.appDrainSeconds * 1000),
  };
}

/** An app's ConfigMap: its settings, then the spec's extra env for it (which win). */
function appConfigMap(ctx: RenderContext, app: AppName, data: Record<string, string>): ConfigMapObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(ctx, names.serviceConfig(ctx, app), app),
    data: { ...data, ...appSpecOf(ctx, app).env },
  };
}

/** The edge's settings: the same as every app's, no database, no cache, no token verification. */
export function buildEdgeConfigMap(ctx: RenderContext): ConfigMapObject {
  return appConfigMap(ctx, EDGE.name, baseAppConfig(ctx, EDGE.name, EDGE.port));
}

/** The app's Dapr API token, which it presents to its own sidecar on every call. */
function daprApiTokenEnv(ctx: RenderContext, app: AppName): V1EnvVar {
  return toEnv('DAPR_API_TOKEN', {
    secretKeyRef: { name: names.daprApiToken(ctx, app), key: DAPR_API_TOKEN_KEY },
  });
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
  env.push(daprApiTokenEnv(ctx, svc.name));
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

/** What the Dapr injector reads from an app's pod template. */
function daprAnnotations(ctx: RenderContext, app: AppPod): Record<string, string> {
  const dapr = ctx.spec.dapr;
  const annotations: Record<string, string> = {
    'dapr.io/enabled': 'true',
    'dapr.io/app-id': app.name,
    'dapr.io/app-port': String(app.port),
    'dapr.io/app-protocol': 'http',
    // The app's own Configuration: whom its sidecar lets call it, and for what.
    'dapr.io/config': names.daprConfig(ctx, app.name),
    'dapr.io/log-level': dapr.logLevel,
    'dapr.io/enable-metrics': 'true',
    'dapr.io/app-health-check-path': '/healthz',
    'dapr.io/enable-app-health-check': 'true',
    'dapr.io/graceful-shutdown-seconds': String(STOPPING.sidecarDrainSeconds),
    'dapr.io/block-shutdown-duration': `${STOPPING.sidecarBlockSeconds}s`,
    // The pods mount no ServiceAccount token, which the sidecar's built-in Kubernetes secret store
    // needs; the components' secrets are resolved by Dapr's operator instead.
    'dapr.io/disable-builtin-k8s-secret-store': 'true',
    // The sidecar answers its API only to the holder of this Secret's token: the app.
    'dapr.io/api-token-secret': names.daprApiToken(ctx, app.name),
  };
  if (!app.actors) {
    // The injector points every sidecar at placement and the scheduler, and each connected sidecar
    // keeps streams to both open. An app without actors uses neither; an empty annotation is the
    // injector's way to leave placement's flag out and hand daprd no scheduler address.
    annotations['dapr.io/placement-host-address'] = '';
    annotations['dapr.io/scheduler-host-address'] = '';
  }
  // The sidecar sends this Secret's token to the app, which trusts nothing else as its sidecar.
  if (app.appTokenSecret !== undefined) annotations['dapr.io/app-token-secret'] = app.appTokenSecret;
  const { requests, limits } = dapr.sidecarResources;
  if (requests?.cpu) annotations['dapr.io/sidecar-cpu-request'] = requests.cpu;
  if (requests?.memory) annotations['dapr.io/sidecar-memory-request'] = requests.memory;
  if (limits?.cpu) annotations['dapr.io/sidecar-cpu-limit'] = limits.cpu;
  if (limits?.memory) annotations['dapr.io/sidecar-memory-limit'] = limits.memory;
  return annotations;
}

/**
 * The Dapr resources an app's sidecar loads when it starts: its own Configuration and whatever is
 * scoped to it (or to every app). Their content goes into the pod template's hash: sidecars run with
 * HotReload off (see `daprFeatures`), so a changed Component reaches them by a roll, one pod at a time.
 */
function daprResourcesOf(ctx: RenderContext, app: AppName): unknown[] {
  return buildDaprResources(ctx)
    .filter((r) => {
      if (r.kind === 'Configuration') return r.metadata.name === names.daprConfig(ctx, app);
      const { scopes } = r as { scopes?: string[] };
      return scopes === undefined || scopes.length === 0 || scopes.includes(app);
    })
    .map((r) => {
      const { kind, metadata: meta, ...content } = r as Rendered & Record<string, unknown>;
      return { kind, name: meta.name, ...content };
    });
}

/** A short, stable hash of what the pods read at start, so changing it rolls them out. */
export function configHash(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** One app's pod, beyond what every app's pod shares. */
export interface AppPod {
  name: AppName;
  port: number;
  /** Environment read from Secrets: never copied into a ConfigMap. */
  env: V1EnvVar[];
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
  /** The Secret whose token the sidecar sends the app (a service tells its sidecar's requests by it). */
  appTokenSecret?: string;
  /** Whether the app hosts actors (Dapr Workflow): only then does its sidecar need placement and the scheduler. */
  actors: boolean;
}

/** A service's pod: its Secrets, auth's signing key, and the app token its routes demand. */
function servicePod(ctx: RenderContext, svc: ServiceNeeds): AppPod {
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  if (svc.name === 'auth') {
    volumes.push({ name: 'signing-key', secret: { secretName: names.signingKey(ctx), defaultMode: 0o440 } });
    mounts.push({ name: 'signing-key', mountPath: AUTH_KEYS_DIR, readOnly: true });
  }
  return {
    name: svc.name,
    port: svc.port,
    env: secretEnv(ctx, svc),
    volumes,
    mounts,
    appTokenSecret: names.appToken(ctx, svc.name),
    actors: svc.actors,
  };
}

/** The edge's pod: only its Dapr API token (its port is public, so it has no app token to check). */
function edgePod(ctx: RenderContext): AppPod {
  return {
    name: EDGE.name,
    port: EDGE.port,
    env: [daprApiTokenEnv(ctx, EDGE.name)],
    volumes: [],
    mounts: [],
    actors: false,
  };
}

export function buildDeployment(
  ctx: RenderContext,
  svc: ServiceNeeds,
  config: ConfigMapObject,
): DeploymentObject {
  return appDeployment(ctx, servicePod(ctx, svc), config);
}

export function buildEdgeDeployment(ctx: RenderContext, config: ConfigMapObject): DeploymentObject {
  return appDeployment(ctx, edgePod(ctx), config);
}

/**
 * Spreads an app's pods over the nodes: at most one more on any node than on another. A preference,
 * not a rule (ScheduleAnyway), so a one-node cluster still runs every replica. Counted per revision
 * (pod-template-hash), so a roll spreads the new pods without counting the old ones leaving. Only the
 * hostname: a constraint on a zone label that no node carries (kind's nodes carry none) would score
 * every node alike and so cancel the spreading by host too.
 */
function spreadOverNodes(selector: Record<string, string>): V1TopologySpreadConstraint[] {
  return [
    {
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: selector },
      matchLabelKeys: ['pod-template-hash'],
    },
  ];
}

/** An app's Deployment: one non-root container, read-only root, probes on its platform endpoints. */
function appDeployment(ctx: RenderContext, app: AppPod, config: ConfigMapObject): DeploymentObject {
  const spec = appSpecOf(ctx, app.name);
  const { env } = app;
  const volumes: V1Volume[] = [{ name: 'tmp', emptyDir: {} }, ...app.volumes];
  const mounts: V1VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }, ...app.mounts];
  const podLabels = { ...metadata(ctx, '', app.name).labels };
  const selector = selectorLabels(ctx, app.name);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(ctx, names.service(ctx, app.name), app.name),
    spec: {
      replicas: spec.replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: selector },
      // A new version (or configuration) rolls one pod at a time: one extra pod starts, and an old one
      // stops only once the new one passes its readiness probe, so the app never has fewer ready pods
      // than its replicas.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: podLabels,
          annotations: {
            ...daprAnnotations(ctx, app),
            [CONFIG_HASH_ANNOTATION]: configHash(config.data, env, daprResourcesOf(ctx, app.name)),
          },
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: STOPPING.gracePeriodSeconds,
          topologySpreadConstraints: spreadOverNodes(selector),
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
              name: app.name,
              image: imageOf(ctx, app.name),
              imagePullPolicy: ctx.spec.images.pullPolicy,
              ports: [{ name: 'http', containerPort: app.port, protocol: 'TCP' }],
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

/**
 * The edge's Service: the one way into the shop (port 80, named http). The services have none: no
 * pod may reach their app ports (their NetworkPolicies), and callers reach them through their sidecars.
 */
export function buildEdgeService(ctx: RenderContext): ServiceObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(ctx, names.service(ctx, EDGE.name), EDGE.name),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(ctx, EDGE.name),
      ports: [{ name: 'http', port: EDGE_SERVICE_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/**
 * The PodDisruptionBudget of an app that runs two or more replicas: a voluntary disruption (a node
 * drain, a cluster upgrade) evicts one of its pods at a time, and the next only once the replacement
 * is ready. None for one replica or none (no other pod keeps serving, so a budget would protect
 * nothing); the reconciler prunes the budget when the replicas drop below two.
 */
export function buildDisruptionBudget(ctx: RenderContext, app: AppName): DisruptionBudgetObject | undefined {
  if (appSpecOf(ctx, app).replicas < 2) return undefined;
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: metadata(ctx, names.disruptionBudget(ctx, app), app),
    spec: {
      maxUnavailable: 1,
      selector: { matchLabels: selectorLabels(ctx, app) },
      // A pod that is running but not ready serves nothing: evicting it costs no availability, and a
      // crash-looping pod must not hold up a node drain.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  };
}

/** An app's Deployment, then its PodDisruptionBudget when it has one. */
function deploymentAndBudget(ctx: RenderContext, deployment: DeploymentObject, app: AppName): Rendered[] {
  const budget = buildDisruptionBudget(ctx, app);
  return budget === undefined ? [deployment] : [deployment, budget];
}

/** ConfigMap, Deployment and PodDisruptionBudget (two or more replicas) of every service. */
export function buildServices(ctx: RenderContext): Rendered[] {
  return SERVICES.flatMap((svc) => {
    const config = buildServiceConfigMap(ctx, svc);
    return [config, ...deploymentAndBudget(ctx, buildDeployment(ctx, svc, config), svc.name)];
  });
}

/** ConfigMap, Deployment, PodDisruptionBudget (two or more replicas) and Service of the public edge. */
export function buildEdge(ctx: RenderContext): Rendered[] {
  const config = buildEdgeConfigMap(ctx);
  return [
    config,
    ...deploymentAndBudget(ctx, buildEdgeDeployment(ctx, config), EDGE.name),
    buildEdgeService(ctx),
  ];
}
