import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { EDGE_APP_ID, SERVICE_APP_IDS } from '@ecom/shared';
import { z } from 'zod';

/** Where things live: the clone, its git-ignored runtime folder, and the per-user cache. */
export const repoDir = path.resolve(__dirname, '..', '..');
export const stateDir = process.env.ECOM_STATE_DIR ?? path.join(repoDir, '.stack');
export const cacheDir =
  process.env.ECOM_CACHE ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'ecom-micro');
export const runDir = path.join(stateDir, 'run');
export const logDir = path.join(stateDir, 'logs');
export const dataDir = path.join(stateDir, 'data');
/** Node's arguments that run the stack's CLI (`npm run stack:*`) from another process: add the command. */
export const cliArgs = ['--import', 'tsx', path.join(repoDir, 'stack', 'src', 'cli.ts')];

/** The pinned versions of stack/versions.env (the one place they are written). */
export function readVersions(): Record<string, string> {
  const text = readFileSync(path.join(repoDir, 'stack', 'versions.env'), 'utf8');
  const versions: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=("?)(.*)\2$/.exec(line.trim());
    if (match?.[1] && match[3] !== undefined) versions[match[1]] = match[3];
  }
  return versions;
}

const portNumber = z.coerce.number().int().min(1).max(65535);

/**
 * Every port of the local stack, overridable by environment variable. All lie below the kernel's
 * ephemeral range (32768–60999 on Linux), where an outgoing connection could hold one at start-up;
 * settings.spec.ts checks the defaults against this machine's ip_local_port_range.
 */
const portsSchema = z.object({
  ECOM_PORT_POSTGRES: portNumber.default(15432),
  ECOM_PORT_REDIS: portNumber.default(16379),
  ECOM_PORT_KAFKA: portNumber.default(19092),
  ECOM_PORT_KAFKA_CONTROLLER: portNumber.default(19093),
  ECOM_PORT_MONGO: portNumber.default(27027),
  ECOM_PORT_MONGO_DEBUG: portNumber.default(28088),
  ECOM_PORT_SMTP: portNumber.default(2525),
  ECOM_PORT_SMTP_API: portNumber.default(2526),
  ECOM_PORT_PLACEMENT: portNumber.default(20005),
  ECOM_PORT_SCHEDULER: portNumber.default(20006),
  ECOM_PORT_SCHEDULER_ETCD: portNumber.default(22379),
  ECOM_PORT_PLACEMENT_HEALTH: portNumber.default(28080),
  ECOM_PORT_PLACEMENT_RAFT: portNumber.default(28201),
  ECOM_PORT_SCHEDULER_HEALTH: portNumber.default(28081),
  /**
   * Dapr Sentry, the sidecars' certificate authority (mTLS identities), and its health port (which,
   * like placement's and the scheduler's, Dapr 1.18 binds on every interface: it tells liveness only).
   */
  ECOM_PORT_SENTRY: portNumber.default(15050),
  ECOM_PORT_SENTRY_HEALTH: portNumber.default(15051),
  /** The public edge: the one port clients call, on every interface. */
  ECOM_PORT_EDGE: portNumber.default(18080),
  /**
   * The bench's bare-workflow floor: a throwaway sidecar's HTTP, gRPC and internal gRPC ports, in the
   * apps' own bands (3500+n, 26000+n, 27000+n) at n = 99, which no app gets.
   */
  ECOM_PORT_FLOOR_DAPR_HTTP: portNumber.default(3599),
  ECOM_PORT_FLOOR_DAPR_GRPC: portNumber.default(26099),
  ECOM_PORT_FLOOR_DAPR_INTERNAL: portNumber.default(27099),
});

const settingsSchema = portsSchema.extend({
  ADMIN_EMAIL: z.email().default('admin@ecom.local'),
  ADMIN_PASSWORD: z.string().min(8).default('ecom-admin-local'),
  ECOM_PG_USER: z.string().default('postgres'),
});

export type StackSettings = z.infer<typeof settingsSchema>;

/** Parses the stack's settings once; a bad value stops the command with its name. */
export function loadStackSettings(env: NodeJS.ProcessEnv = process.env): StackSettings {
  const result = settingsSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new StackError(`invalid stack setting: ${problems}`, 'fix or unset the variable');
  }
  return result.data;
}

/** A failure the CLI reports as one line: what is wrong, and how to fix it. */
export class StackError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'StackError';
  }
}

/**
 * The apps the stack runs: the seven services (DESIGN.md §2) and the public edge, each with its own
 * sidecar. app-id → app port and sidecar ports.
 */
export const serviceIds = [...SERVICE_APP_IDS, EDGE_APP_ID] as const;
export type ServiceId = (typeof serviceIds)[number];

/** The port an app listens on; the edge's is the public one, from the settings. */
export function appPort(s: StackSettings, id: ServiceId): number {
  return id === EDGE_APP_ID ? s.ECOM_PORT_EDGE : servicePorts(id).app;
}

export function servicePorts(id: ServiceId) {
  const index = serviceIds.indexOf(id) + 1;
  return {
    app: 4000 + index,
    daprHttp: 3500 + index,
    daprGrpc: 26000 + index,
    daprInternalGrpc: 27000 + index,
    daprMetrics: 29000 + index,
  };
}

/** PostgreSQL databases: one per PostgreSQL service, plus Dapr's state and FerretDB's backend. */
export const postgresDatabases = ['order', 'inventory', 'payment', 'saga', 'dapr_state', 'ferretdb'] as const;

/** Services whose store is PostgreSQL (DESIGN.md §2); the others use MongoDB. */
export const postgresServices: readonly ServiceId[] = ['order', 'inventory', 'payment', 'saga'];
