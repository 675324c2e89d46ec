import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { renderDaprResources, type RenderedDaprResources } from './components';
import { createDatabases, infrastructure, initKafka, initPostgres } from './infrastructure';
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
import {
  interrupted,
  isAlive,
  logFile,
  readPid,
  startProcess,
  stopProcess,
  type ProcessSpec,
} from './supervisor';
import { ensureTopics, stackTopics } from './topics';

export type Progress = (line: string) => void;

/** Values for the ${...} placeholders of dapr-components/ on this machine. */
export function localComponentValues(s: StackSettings): Record<string, string> {
  return {
    KAFKA_BROKERS: `127.0.0.1:${s.ECOM_PORT_KAFKA}`,
    ACTOR_STATE_CONNECTION_STRING: `host=127.0.0.1 port=${s.ECOM_PORT_POSTGRES} user=${s.ECOM_PG_USER} dbname=dapr_state sslmode=disable`,
    NAME_RESOLUTION_DB: path.join(dataDir, 'dapr-name-resolution.db'),
  };
}

export function renderLocalDapr(s: StackSettings): RenderedDaprResources {
  return renderDaprResources(path.join(stateDir, 'dapr'), localComponentValues(s));
}

/**
 * One run that starts parts of the stack (a CLI command, the tests' global setup): what it started
 * itself, so that a failure stops exactly that, and the signal that interrupts it.
 */
export interface StackRun {
  started: string[];
  signal?: AbortSignal;
}

export function newRun(signal?: AbortSignal): StackRun {
  return { started: [], signal };
}

async function timed(progress: Progress, spec: ProcessSpec, run: StackRun): Promise<void> {
  if (run.signal?.aborted) throw interrupted(run.signal);
  const started = Date.now();
  const pid = await startProcess(spec, { signal: run.signal, started: run.started });
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
export async function upInfrastructure(
  s: StackSettings,
  progress: Progress,
  run: StackRun = newRun(),
): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const [pg, ...rest] = infrastructure(s);
  initPostgres(s);
  await timed(progress, pg as ProcessSpec, run);
  await createDatabases(s);
  initKafka(s);
  // Independent of each other: start them together.
  await allSettledOrThrow(rest.map((spec) => timed(progress, spec, run)));
  if (run.signal?.aborted) throw interrupted(run.signal);
  const created = await ensureTopics(s.ECOM_PORT_KAFKA, stackTopics());
  if (created.length > 0) progress(`created ${created.length} Kafka topics`);
}

/** Starts every present service with its sidecar. */
export async function upServices(
  s: StackSettings,
  progress: Progress,
  run: StackRun = newRun(),
): Promise<void> {
  const dapr = renderLocalDapr(s);
  await allSettledOrThrow(
    presentServices().map(async (id) => {
      await timed(progress, appSpec(s, id), run);
      await timed(progress, serviceSidecarSpec(s, id, dapr), run);
    }),
  );
}

/** The ports each service process listens on, by process name (`<id>` and `<id>-dapr`). */
function servicePortsByName(s: StackSettings): Map<string, number[]> {
  return new Map(
    serviceIds.flatMap((id) => {
      const p = servicePorts(id, s);
      return [
        [id, [p.app]],
        [`${id}-dapr`, [p.daprHttp, p.daprGrpc, p.daprInternalGrpc]],
      ] as [string, number[]][];
    }),
  );
}

/**
 * Stops and starts one service and its sidecar (after a code change, or to recover from a fault
 * test). Each start waits until the old process has exited and its ports are free.
 */
export async function restartService(s: StackSettings, id: ServiceId, progress: Progress): Promise<void> {
  const dapr = renderLocalDapr(s);
  const app = appSpec(s, id);
  const sidecar = serviceSidecarSpec(s, id, dapr);
  await stopProcess(sidecar.name, { ports: sidecar.ports });
  await stopProcess(app.name, { ports: app.ports });
  const run = newRun();
  await timed(progress, app, run);
  await timed(progress, sidecar, run);
}

/**
 * Stops the processes a run started, and only those (parts it found running stay): services first,
 * then infrastructure in reverse start order. Never throws: it is the cleanup of a failure.
 */
export async function stopStarted(s: StackSettings, run: StackRun, progress: Progress): Promise<void> {
  const infra = new Map(infrastructure(s).map((p) => [p.name, p]));
  const started = [...run.started].reverse();
  const stop = async (name: string) => {
    await stopProcess(name, { signal: infra.get(name)?.stopSignal }).then(
      () => {
        progress(`${name.padEnd(20)} stopped`);
      },
      (error: unknown) => {
        progress(
          `${name.padEnd(20)} could not be stopped: ${error instanceof Error ? error.message : String(error)}`,
        );
      },
    );
  };
  await Promise.all(started.filter((name) => !infra.has(name)).map(stop));
  for (const name of started.filter((n) => infra.has(n))) await stop(name);
}

/** Stops everything in reverse start order, each until its ports are free; safe to call when nothing runs. */
export async function down(s: StackSettings, progress: Progress): Promise<void> {
  const services = servicePortsByName(s);
  await Promise.all([...services].map(([name, ports]) => stopProcess(name, { ports })));
  for (const spec of infrastructure(s).reverse()) {
    const pid = readPid(spec.name);
    await stopProcess(spec.name, { ports: spec.ports, signal: spec.stopSignal });
    if (pid) progress(`${spec.name.padEnd(20)} stopped`);
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
