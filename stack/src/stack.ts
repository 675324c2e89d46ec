import { mkdirSync } from 'node:fs';
import {
  DAPR_STATE_APPS,
  outboxEventsOf,
  outboxStoreMetadata,
  outboxStoreName,
  outboxTopicsOf,
  publishingScopes,
  topicPlan,
} from '@ecom/shared';
import YAML from 'yaml';
import path from 'node:path';
import { renderDaprResources, type RenderedDaprResources } from './components';
import { createDatabases, infrastructure, initKafka, initPostgres, needsSentry } from './infrastructure';
import { appSpec, presentServices, serviceSidecarSpec } from './services';
import {
  dataDir,
  loadStackSettings,
  serviceIds,
  servicePorts,
  stateDir,
  type ServiceId,
  type StackSettings,
} from './settings';
import { isAlive, logFile, readPid, startProcess, stopProcess, type ProcessSpec } from './supervisor';
import { ensureTopics } from './topics';

export type Progress = (line: string) => void;

/** Values for the ${...} placeholders of dapr-components/ on this machine. */
export function localComponentValues(s: StackSettings): Record<string, string> {
  return {
    KAFKA_BROKERS: `127.0.0.1:${s.ECOM_PORT_KAFKA}`,
    ACTOR_STATE_CONNECTION_STRING: `host=127.0.0.1 port=${s.ECOM_PORT_POSTGRES} user=${s.ECOM_PG_USER} dbname=dapr_state sslmode=disable`,
    NAME_RESOLUTION_DB: path.join(dataDir, 'dapr-name-resolution.db'),
    PUBLISHING_SCOPES: publishingScopes((app) => outboxTopicsOf(app, LOCAL_DAPR_NAMESPACE)),
  };
}

/** daprd's namespace in self-hosted mode (no NAMESPACE set): part of its outbox's internal topic names. */
export const LOCAL_DAPR_NAMESPACE = 'default';

/**
 * The state stores whose transactional outbox publishes each event of order and payment: one
 * state.postgresql component per event, over one table in the app's own database, scoped to the app.
 */
export function localOutboxStores(s: StackSettings): string[] {
  return DAPR_STATE_APPS.flatMap((app) =>
    outboxEventsOf(app).map((event) =>
      YAML.stringify({
        apiVersion: 'dapr.io/v1alpha1',
        kind: 'Component',
        metadata: { name: outboxStoreName(event) },
        spec: {
          type: 'state.postgresql',
          version: 'v1',
          metadata: [
            {
              name: 'connectionString',
              value: `host=127.0.0.1 port=${s.ECOM_PORT_POSTGRES} user=${s.ECOM_PG_USER} dbname=${app} sslmode=disable`,
            },
            ...outboxStoreMetadata(app, event),
          ],
        },
        scopes: [app],
      }),
    ),
  );
}

export function renderLocalDapr(s: StackSettings): RenderedDaprResources {
  return renderDaprResources(path.join(stateDir, 'dapr'), localComponentValues(s), localOutboxStores(s));
}

async function timed(progress: Progress, spec: ProcessSpec): Promise<void> {
  const started = Date.now();
  const pid = await startProcess(spec);
  progress(
    `${spec.name.padEnd(20)} healthy  pid ${String(pid).padEnd(8)} ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

/** Waits for every start to finish (so none is left half-started), then fails with the first error. */
async function allSettledOrThrow(starts: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(starts);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Starts infrastructure and the Dapr control plane, then creates databases and topics. */
export async function upInfrastructure(s: StackSettings, progress: Progress): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const [pg, ...rest] = infrastructure(s);
  initPostgres(s);
  await timed(progress, pg as ProcessSpec);
  await createDatabases(s);
  initKafka(s);
  // Independent of each other: start them together; placement and the scheduler once Sentry answers.
  await allSettledOrThrow(rest.filter((p) => !needsSentry.has(p.name)).map((spec) => timed(progress, spec)));
  await allSettledOrThrow(rest.filter((p) => needsSentry.has(p.name)).map((spec) => timed(progress, spec)));
  const created = await ensureTopics(s.ECOM_PORT_KAFKA, topicPlan(LOCAL_DAPR_NAMESPACE));
  if (created.length > 0) progress(`created ${created.length} Kafka topics`);
}

/** Starts every present service with its sidecar. */
export async function upServices(s: StackSettings, progress: Progress): Promise<void> {
  const dapr = renderLocalDapr(s);
  await allSettledOrThrow(
    presentServices().map(async (id) => {
      await timed(progress, appSpec(s, id));
      await timed(progress, serviceSidecarSpec(s, id, dapr));
    }),
  );
}

/** Stops and starts one service and its sidecar (after a code change, or to recover from a fault test). */
export async function restartService(s: StackSettings, id: ServiceId, progress: Progress): Promise<void> {
  await stopProcess(`${id}-dapr`);
  await stopProcess(id);
  const dapr = renderLocalDapr(s);
  await timed(progress, appSpec(s, id));
  await timed(progress, serviceSidecarSpec(s, id, dapr));
}

/** Stops everything in reverse start order; safe to call when nothing runs. */
export async function down(s: StackSettings, progress: Progress): Promise<void> {
  const services = serviceIds.flatMap((id) => [`${id}-dapr`, id]);
  await Promise.all(services.map((name) => stopProcess(name)));
  for (const name of infrastructure(s)
    .map((p) => p.name)
    .reverse()) {
    const pid = readPid(name);
    await stopProcess(name);
    if (pid) progress(`${name.padEnd(20)} stopped`);
  }
}

export interface ComponentStatus {
  name: string;
  port: number | null;
  pid: number | null;
  running: boolean;
  healthy: boolean;
  log: string;
}

/** What runs and whether it serves: each part with its port, pid and health. */
export async function status(s: StackSettings): Promise<{ healthy: boolean; components: ComponentStatus[] }> {
  const dapr = renderLocalDapr(s);
  const specs: ProcessSpec[] = [
    ...infrastructure(s),
    ...presentServices().flatMap((id) => [appSpec(s, id), serviceSidecarSpec(s, id, dapr)]),
  ];
  const components = await Promise.all(
    specs.map(async (spec) => {
      const pid = readPid(spec.name);
      const running = isAlive(pid);
      return {
        name: spec.name,
        port: spec.ports[0] ?? null,
        pid: running ? (pid ?? null) : null,
        running,
        healthy: running && (await spec.healthy().catch(() => false)),
        log: logFile(spec.name),
      };
    }),
  );
  return { healthy: components.every((c) => c.healthy), components };
}

export { loadStackSettings, servicePorts };
