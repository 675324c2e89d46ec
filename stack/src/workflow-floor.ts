import { randomUUID } from 'node:crypto';
import path from 'node:path';
import {
  DaprWorkflowClient,
  LogLevel,
  WorkflowRuntime,
  WorkflowRuntimeStatus,
  type WorkflowActivityContext,
  type WorkflowContext,
} from '@dapr/dapr';
import { createLogger, routeConsoleTo } from '@ecom/shared';
import { pgStateComponent, renderDaprResources } from './components';
import { stateDir, type StackSettings } from './settings';
import { sidecarSpec } from './sidecar';
import { clockTicksPerSecond, cpuMsPer, readTreeCpu } from './process-cpu';
import { localComponentValues } from './stack';
import { readPid, startProcess, stopProcess } from './supervisor';

/**
 * The bare-workflow floor: what Dapr Workflow itself costs on this stack, with no service behind it.
 * A throwaway daprd (the same binary, placement, scheduler and PostgreSQL actor store as the saga's)
 * hosts a workflow of four chained no-op activities; N instances run C at a time and the rate is
 * what the order saga (a workflow of about as many activities) could reach at best. Its own app id,
 * so the saga's worker registration and actors are left alone.
 */
export const FLOOR_APP_ID = 'bench-floor';
export const FLOOR_WORKFLOW = 'floor';
export const FLOOR_ACTIVITY = 'floor_noop';
const SIDECAR_NAME = `${FLOOR_APP_ID}-dapr`;
const CHAINED_ACTIVITIES = 4;

export interface FloorOptions {
  workflows: number;
  concurrency: number;
  /** A workflow not completed within this long fails the floor. */
  timeoutSeconds?: number;
  /** The stack's processes (name → pid) whose CPU the timed round is charged, as the orders are. */
  cpuOf?: ReadonlyMap<string, number>;
}

export interface FloorResult {
  workflows: number;
  concurrency: number;
  durationS: number;
  workflowsPerSecond: number;
  /**
   * CPU ms per workflow of the stack's processes (cpuOf) and the floor's sidecar over the timed
   * round; undefined without cpuOf or when one of them restarted meanwhile.
   */
  cpuMsPerWorkflow?: number;
  /**
   * CPU ms per workflow of this process: the floor's worker (the saga app's part, for an order) and
   * its client (the bench client's part, which the orders' figure leaves out). They share the process.
   */
  workerAndClientCpuMsPerWorkflow: number;
}

/** Each activity hands on its input plus one: as little work as an activity can do. */
const noop = (_ctx: WorkflowActivityContext, n: number): Promise<number> => Promise.resolve(n + 1);

// eslint-disable-next-line @typescript-eslint/require-await -- the runtime drives async generators; this one only yields tasks
async function* floorWorkflow(ctx: WorkflowContext, input: number): AsyncGenerator<unknown, number> {
  let n = input;
  for (let i = 0; i < CHAINED_ACTIVITIES; i += 1) n = (yield ctx.callActivity(FLOOR_ACTIVITY, n)) as number;
  return n;
}

/** Runs `count` workflows, `concurrency` at a time; rejects with the first that did not complete. */
async function runWorkflows(
  client: DaprWorkflowClient,
  count: number,
  concurrency: number,
  timeoutSeconds: number,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) {
        const id = await client.scheduleNewWorkflow(FLOOR_WORKFLOW, 0, `${FLOOR_APP_ID}-${randomUUID()}`);
        const state = await client.waitForWorkflowCompletion(id, false, timeoutSeconds);
        if (state?.runtimeStatus !== WorkflowRuntimeStatus.COMPLETED) {
          const status = state === undefined ? 'no answer' : WorkflowRuntimeStatus[state.runtimeStatus];
          throw new Error(`floor workflow ${id}: ${status} after ${timeoutSeconds} s at most`);
        }
      }
    }),
  );
}

/**
 * Starts the floor's sidecar and worker, runs one untimed round (the worker's stream, placement of
 * its actor types, the first activations), then times `workflows` instances, and stops everything
 * it started, also on failure. A run killed midway leaves the sidecar up: the next one takes it over
 * (the supervisor keeps a healthy process of the same name) and stops it.
 *
 * Ports: ECOM_PORT_FLOOR_DAPR_* (3599, 26099, 27099 by default), below the kernel's ephemeral range
 * like every port of the stack, so no outgoing connection holds one when the sidecar starts.
 */
export async function measureWorkflowFloor(s: StackSettings, o: FloorOptions): Promise<FloorResult> {
  const timeoutSeconds = o.timeoutSeconds ?? 60;
  const values = localComponentValues(s);
  // The floor's actor state store: in the same dapr_state database as the saga's, in tables of its
  // own, so its rows never mix with the saga's (and exactly one actor store per sidecar: the
  // project's own is scoped to saga).
  const actorStore = pgStateComponent(values, {
    name: `${FLOOR_APP_ID}-actorstate`,
    appId: FLOOR_APP_ID,
    table: 'bench_floor_actor',
    metadata: { actorStateStore: 'true' },
  });
  const dapr = renderDaprResources(path.join(stateDir, 'bench-floor-dapr'), values, [actorStore]);
  const dial = {
    daprHost: '127.0.0.1',
    daprPort: String(s.ECOM_PORT_FLOOR_DAPR_GRPC),
    // The SDK logs every work item at Info: the bench's output would drown.
    logger: { level: LogLevel.Error },
  };
  // Its durabletask executor prints three lines per work item with console.log whatever that option
  // says: routed as the saga routes it while the floor runs, the chatter dropped (below warn).
  const restoreConsole = routeConsoleTo(createLogger(FLOOR_APP_ID, 'warn'));
  let runtime: WorkflowRuntime | undefined;
  let client: DaprWorkflowClient | undefined;
  try {
    await startProcess(
      sidecarSpec(s, {
        appId: FLOOR_APP_ID,
        httpPort: s.ECOM_PORT_FLOOR_DAPR_HTTP,
        grpcPort: s.ECOM_PORT_FLOOR_DAPR_GRPC,
        internalGrpcPort: s.ECOM_PORT_FLOOR_DAPR_INTERNAL,
        resourcesDir: dapr.resourcesDir,
        configFile: dapr.configFile,
        name: SIDECAR_NAME,
        actors: dapr.actorHosts.has(FLOOR_APP_ID),
      }),
    );
    runtime = new WorkflowRuntime(dial)
      .registerWorkflowWithName(FLOOR_WORKFLOW, floorWorkflow)
      .registerActivityWithName(FLOOR_ACTIVITY, noop);
    await runtime.start();
    client = new DaprWorkflowClient(dial);
    await runWorkflows(client, o.concurrency, o.concurrency, 90);
    const sidecarPid = readPid(SIDECAR_NAME);
    const roots = new Map(o.cpuOf ?? []);
    if (sidecarPid !== undefined) roots.set(SIDECAR_NAME, sidecarPid);
    const cpuBefore = readTreeCpu(roots);
    const ownBefore = process.cpuUsage();
    const started = performance.now();
    await runWorkflows(client, o.workflows, o.concurrency, timeoutSeconds);
    const durationS = (performance.now() - started) / 1000;
    const own = process.cpuUsage(ownBefore);
    const cpu = cpuMsPer(cpuBefore, readTreeCpu(roots), o.workflows, clockTicksPerSecond());
    const counted = o.cpuOf !== undefined && sidecarPid !== undefined && cpu.unmeasured.length === 0;
    return {
      workflows: o.workflows,
      concurrency: o.concurrency,
      durationS: Number(durationS.toFixed(2)),
      workflowsPerSecond: Number((o.workflows / durationS).toFixed(2)),
      ...(counted ? { cpuMsPerWorkflow: Number(cpu.total.toFixed(2)) } : {}),
      workerAndClientCpuMsPerWorkflow: Number(((own.user + own.system) / 1000 / o.workflows).toFixed(2)),
    };
  } finally {
    await client?.stop().catch(() => undefined);
    // The SDK refuses to stop a worker whose stream already died: nothing is left to stop then.
    await runtime?.stop().catch(() => undefined);
    await stopProcess(SIDECAR_NAME);
    restoreConsole();
  }
}
