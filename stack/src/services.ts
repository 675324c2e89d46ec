import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { serviceNode } from './binaries';
import { httpHealthy } from './health';
import { EDGE_APP_ID } from '@ecom/shared';
import {
  appPort,
  postgresServices,
  repoDir,
  serviceIds,
  servicePorts,
  stateDir,
  type ServiceId,
  type StackSettings,
} from './settings';
import type { RenderedDaprResources } from './components';
import { sidecarSpec } from './sidecar';
import type { ProcessSpec } from './supervisor';

/** The services that exist in this checkout (a folder with src/main.ts). */
export function presentServicesUnfiltered(): ServiceId[] {
  return serviceIds.filter((id) => existsSync(path.join(repoDir, 'services', id, 'src', 'main.ts')));
}

/** The services to run: those present, narrowed by ECOM_STACK_SERVICES (a comma list, or `none`). */
export function presentServices(): ServiceId[] {
  const wanted = process.env.ECOM_STACK_SERVICES?.split(',').map((s) => s.trim());
  return presentServicesUnfiltered().filter((id) => wanted === undefined || wanted.includes(id));
}

/** A random secret kept in the stack's state folder, so processes started by different runs agree. */
function stackSecret(kind: string, id: ServiceId): string {
  const file = path.join(stateDir, 'secrets', kind, id);
  if (!existsSync(file)) {
    // The state folder stays traversable (PostgreSQL, running as its own user, keeps its data below
    // it); only the secrets folder is private.
    mkdirSync(stateDir, { recursive: true });
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

/**
 * The two secrets between an app and its sidecar. The app API token (APP_API_TOKEN): the sidecar
 * sends it with every request it delivers, so the app refuses anything sent to its port directly. The
 * Dapr API token (DAPR_API_TOKEN): the sidecar answers its API (invoke, publish, state, workflows,
 * metadata) to its own app only, so no other process can act as that app.
 */
export function sidecarTokens(id: ServiceId): { APP_API_TOKEN: string; DAPR_API_TOKEN: string } {
  return {
    APP_API_TOKEN: stackSecret('app-api-tokens', id),
    DAPR_API_TOKEN: stackSecret('dapr-api-tokens', id),
  };
}

/** The environment the stack gives an app: its ports, its own database, and the shared parts. */
export function serviceEnv(s: StackSettings, id: ServiceId): Record<string, string> {
  const ports = servicePorts(id);
  const redisUrl = `redis://127.0.0.1:${s.ECOM_PORT_REDIS}`;
  const base = {
    SERVICE_NAME: id,
    APP_PORT: String(appPort(s, id)),
    DAPR_HTTP_PORT: String(ports.daprHttp),
    DAPR_GRPC_PORT: String(ports.daprGrpc),
    DAPR_HOST: '127.0.0.1',
    ...sidecarTokens(id),
  };
  if (id === EDGE_APP_ID) return base;
  return {
    ...base,
    ...(postgresServices.includes(id)
      ? { DATABASE_URL: `postgres://${s.ECOM_PG_USER}@127.0.0.1:${s.ECOM_PORT_POSTGRES}/${id}` }
      : { MONGODB_URL: `mongodb://127.0.0.1:${s.ECOM_PORT_MONGO}/${id}` }),
    REDIS_URL: redisUrl,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(s.ECOM_PORT_SMTP),
    ADMIN_EMAIL: s.ADMIN_EMAIL,
    ADMIN_PASSWORD: s.ADMIN_PASSWORD,
    // Through the service's own sidecar: auth's access-control policy lets every service read its JWKS.
    AUTH_JWKS_URL: `http://127.0.0.1:${ports.daprHttp}/v1.0/invoke/auth/method/.well-known/jwks.json`,
    // Auth's list of ended sessions: a logged-out token is refused at once by every verifier.
    AUTH_SESSION_DENYLIST_URL: redisUrl,
    AUTH_KEYS_DIR: path.join(stateDir, 'secrets', 'auth'),
  };
}

/** The command line of a service: its TypeScript entry point on the services' pinned Node. */
export function appCommand(id: ServiceId): [string, ...string[]] {
  return [
    serviceNode(),
    '--enable-source-maps',
    '--import',
    'tsx',
    path.join('services', id, 'src', 'main.ts'),
  ];
}

export function appSpec(s: StackSettings, id: ServiceId): ProcessSpec {
  const [command, ...args] = appCommand(id);
  return {
    name: id,
    command,
    args,
    cwd: repoDir,
    env: { ...process.env, ...serviceEnv(s, id) },
    ports: [appPort(s, id)],
    healthy: () => httpHealthy(`http://127.0.0.1:${appPort(s, id)}/healthz`),
    startTimeoutMs: 60_000,
  };
}

export function serviceSidecarSpec(
  s: StackSettings,
  id: ServiceId,
  dapr: RenderedDaprResources,
): ProcessSpec {
  const ports = servicePorts(id);
  const spec = sidecarSpec(s, {
    appId: id,
    appPort: appPort(s, id),
    httpPort: ports.daprHttp,
    grpcPort: ports.daprGrpc,
    internalGrpcPort: ports.daprInternalGrpc,
    resourcesDir: dapr.resourcesDir,
    configFile: dapr.appConfigFile(id),
    actors: dapr.actorHosts.has(id),
  });
  return { ...spec, env: { ...(spec.env ?? process.env), ...sidecarTokens(id) } };
}
