import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
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
 * Every port of the local stack, overridable by environment variable. The defaults all lie below
 * the kernel's ephemeral range (ip_local_port_range, 32768–60999 on Linux), where an outgoing
 * connection can never hold one of them at start-up; they also stay clear of the ports the
 * operator's and kind's tests use (12379/12380, 16443/16444, 16543, 18500). A service's ports are
 * its base plus its index (1–7, in the order of serviceIds).
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
  /** The scheduler's embedded etcd: client port, and the next one for its peer port. */
  ECOM_PORT_SCHEDULER_ETCD: portNumber.default(22379),
  ECOM_PORT_PLACEMENT_HEALTH: portNumber.default(28080),
  ECOM_PORT_PLACEMENT_RAFT: portNumber.default(28201),
  ECOM_PORT_SCHEDULER_HEALTH: portNumber.default(28081),
  ECOM_PORT_APP_BASE: portNumber.default(4000),
  ECOM_PORT_DAPR_HTTP_BASE: portNumber.default(3500),
  ECOM_PORT_DAPR_GRPC_BASE: portNumber.default(26000),
  ECOM_PORT_DAPR_INTERNAL_GRPC_BASE: portNumber.default(27000),
  ECOM_PORT_DAPR_METRICS_BASE: portNumber.default(29000),
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
  const clashes = portClashes(stackPorts(result.data));
  if (clashes.length > 0) {
    throw new StackError(
      `ports clash: ${clashes.join('; ')}`,
      'give each part its own port through its ECOM_PORT_* variable',
    );
  }
  return result.data;
}

/** One port the stack listens on, and who listens there. */
export interface StackPort {
  owner: string;
  port: number;
}

/** Every port the stack listens on with these settings: infrastructure, control plane, apps, sidecars. */
export function stackPorts(s: StackSettings): StackPort[] {
  const infrastructure: StackPort[] = [
    { owner: 'postgres', port: s.ECOM_PORT_POSTGRES },
    { owner: 'redis', port: s.ECOM_PORT_REDIS },
    { owner: 'kafka', port: s.ECOM_PORT_KAFKA },
    { owner: 'kafka controller', port: s.ECOM_PORT_KAFKA_CONTROLLER },
    { owner: 'mongo', port: s.ECOM_PORT_MONGO },
    { owner: 'mongo debug', port: s.ECOM_PORT_MONGO_DEBUG },
    { owner: 'smtp', port: s.ECOM_PORT_SMTP },
    { owner: 'smtp api', port: s.ECOM_PORT_SMTP_API },
    { owner: 'placement', port: s.ECOM_PORT_PLACEMENT },
    { owner: 'placement health', port: s.ECOM_PORT_PLACEMENT_HEALTH },
    { owner: 'placement raft', port: s.ECOM_PORT_PLACEMENT_RAFT },
    { owner: 'scheduler', port: s.ECOM_PORT_SCHEDULER },
    { owner: 'scheduler health', port: s.ECOM_PORT_SCHEDULER_HEALTH },
    { owner: 'scheduler etcd', port: s.ECOM_PORT_SCHEDULER_ETCD },
    { owner: 'scheduler etcd peer', port: schedulerEtcdPeerPort(s) },
  ];
  const services = serviceIds.flatMap((id) => {
    const p = servicePorts(id, s);
    return [
      { owner: `${id} app`, port: p.app },
      { owner: `${id}-dapr http`, port: p.daprHttp },
      { owner: `${id}-dapr grpc`, port: p.daprGrpc },
      { owner: `${id}-dapr internal grpc`, port: p.daprInternalGrpc },
      { owner: `${id}-dapr metrics`, port: p.daprMetrics },
    ];
  });
  return [...infrastructure, ...services];
}

/** Ports given to more than one owner, or beyond 65535 (a base too high), as readable lines. */
function portClashes(ports: StackPort[]): string[] {
  const owners = new Map<number, string[]>();
  for (const { owner, port } of ports) owners.set(port, [...(owners.get(port) ?? []), owner]);
  return [...owners.entries()]
    .filter(([port, names]) => names.length > 1 || port > 65535)
    .map(([port, names]) =>
      port > 65535 ? `${port} (${names.join(', ')}) is beyond 65535` : `${port} (${names.join(', ')})`,
    );
}

export function schedulerEtcdPeerPort(s: StackSettings): number {
  return s.ECOM_PORT_SCHEDULER_ETCD + 1;
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

/** The seven services: app-id → app port and sidecar ports (DESIGN.md §2). */
export const serviceIds = ['auth', 'user', 'notification', 'order', 'inventory', 'payment', 'saga'] as const;
export type ServiceId = (typeof serviceIds)[number];

/** A service's ports: each base of the settings plus the service's index (auth 1 … saga 7). */
export function servicePorts(id: ServiceId, s: StackSettings = loadStackSettings()) {
  const index = serviceIds.indexOf(id) + 1;
  return {
    app: s.ECOM_PORT_APP_BASE + index,
    daprHttp: s.ECOM_PORT_DAPR_HTTP_BASE + index,
    daprGrpc: s.ECOM_PORT_DAPR_GRPC_BASE + index,
    daprInternalGrpc: s.ECOM_PORT_DAPR_INTERNAL_GRPC_BASE + index,
    daprMetrics: s.ECOM_PORT_DAPR_METRICS_BASE + index,
  };
}

/** PostgreSQL databases: one per PostgreSQL service, plus Dapr's state and FerretDB's backend. */
export const postgresDatabases = ['order', 'inventory', 'payment', 'saga', 'dapr_state', 'ferretdb'] as const;

/** Services whose store is PostgreSQL (DESIGN.md §2); the others use MongoDB. */
export const postgresServices: readonly ServiceId[] = ['order', 'inventory', 'payment', 'saga'];
