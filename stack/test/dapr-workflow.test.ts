import { randomUUID } from 'node:crypto';
import {
  DaprWorkflowClient,
  WorkflowRuntime,
  WorkflowRuntimeStatus,
  type WorkflowActivityContext,
  type WorkflowContext,
} from '@dapr/dapr';
import { pgStateComponent } from '../src/components';
import { loadStackSettings, localComponentValues } from '../src/stack';
import { eventually } from './support/eventually';
import { startTestApp } from './support/test-app';

interface Probe {
  client: DaprWorkflowClient;
  stop: () => Promise<void>;
}

/**
 * A probe app's sidecar with an actor state store of its own (exactly one per sidecar, in a table of
 * its own), a workflow runtime that `register` fills in, and a client.
 */
async function startProbe(
  appId: string,
  register: (runtime: WorkflowRuntime) => WorkflowRuntime,
  workflowRetention?: Parameters<typeof startTestApp>[0]['workflowRetention'],
): Promise<Probe> {
  const actorStore = pgStateComponent(localComponentValues(loadStackSettings()), {
    name: `${appId}-actorstate`,
    appId,
    table: appId.replaceAll('-', '_'),
    metadata: { actorStateStore: 'true' },
  });
  const app = await startTestApp({
    appId,
    extraResources: [actorStore],
    ...(workflowRetention ? { workflowRetention } : {}),
  });
  const options = { daprHost: '127.0.0.1', daprPort: String(app.daprGrpcPort) };
  const runtime = register(new WorkflowRuntime(options));
  await runtime.start();
  const client = new DaprWorkflowClient(options);
  return {
    client,
    stop: async () => {
      await client.stop();
      await runtime.stop();
      await app.stop();
    },
  };
}

describe('Dapr Workflow on placement, scheduler and a PostgreSQL actor state store', () => {
  let probe: Probe | undefined;
  const activityCalls: string[] = [];

  beforeAll(async () => {
    const greet = async (_ctx: WorkflowActivityContext, name: string): Promise<string> => {
      activityCalls.push(name);
      return `hello ${name}`;
    };
    // Workflows must be generators registered under explicit names (bundlers rename functions).
    const greeting = async function* (
      ctx: WorkflowContext,
      name: string,
    ): AsyncGenerator<unknown, { greeting: string; waitedMs: number }> {
      const started = ctx.getCurrentUtcDateTime().getTime();
      const greeting = (yield ctx.callActivity('probe_greet', name)) as string;
      yield ctx.createTimer(2);
      return { greeting, waitedMs: ctx.getCurrentUtcDateTime().getTime() - started };
    };
    probe = await startProbe('workflow-probe', (runtime) =>
      runtime
        .registerWorkflowWithName('probe_workflow', greeting)
        .registerActivityWithName('probe_greet', greet),
    );
  });

  afterAll(async () => {
    await probe?.stop();
  });

  it('runs a workflow with an activity and a durable timer to completion', async () => {
    const client = probe!.client;
    const instanceId = randomUUID();
    await client.scheduleNewWorkflow('probe_workflow', 'ecom', instanceId);
    const state = await client.waitForWorkflowCompletion(instanceId, true, 90);
    expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    const output = JSON.parse(state?.serializedOutput ?? '{}') as { greeting: string; waitedMs: number };
    expect(output.greeting).toBe('hello ecom');
    // The timer really fired after its delay (workflow time is replay-safe).
    expect(output.waitedMs).toBeGreaterThanOrEqual(2_000);
    expect(activityCalls).toContain('ecom');
  });
});

describe("Dapr Workflow's state retention, as the stack renders it", () => {
  let probe: Probe | undefined;

  beforeAll(async () => {
    const done = async function* (ctx: WorkflowContext, name: string): AsyncGenerator<unknown, string> {
      return (yield ctx.callActivity('retention_echo', name)) as string;
    };
    const waits = async function* (ctx: WorkflowContext): AsyncGenerator<unknown, void> {
      yield ctx.waitForExternalEvent('never');
    };
    const echo = (_ctx: WorkflowActivityContext, name: string): string => name;
    probe = await startProbe(
      'workflow-retention-probe',
      (runtime) =>
        runtime
          .registerWorkflowWithName('retention_done', done)
          .registerWorkflowWithName('retention_waits', waits)
          .registerActivityWithName('retention_echo', echo),
      // Completed ones go at once; terminated ones are kept (as failed ones are in the stack).
      { completed: '1s', failed: '1h', terminated: '1h' },
    );
  });

  afterAll(async () => {
    await probe?.stop();
  });

  it('purges a completed workflow after its retention, and keeps a terminated one for its own', async () => {
    const client = probe!.client;
    const [completed, terminated] = [randomUUID(), randomUUID()];
    await client.scheduleNewWorkflow('retention_waits', undefined, terminated);
    await client.waitForWorkflowStart(terminated, false, 60);
    await client.terminateWorkflow(terminated, 'test');
    expect((await client.waitForWorkflowCompletion(terminated, false, 60))?.runtimeStatus).toBe(
      WorkflowRuntimeStatus.TERMINATED,
    );
    await client.scheduleNewWorkflow('retention_done', 'ecom', completed);
    const state = await client.waitForWorkflowCompletion(completed, true, 60);
    expect(state?.runtimeStatus).toBe(WorkflowRuntimeStatus.COMPLETED);
    // Purged: the sidecar no longer knows the instance (the SDK answers undefined).
    await eventually(
      () => client.getWorkflowState(completed, false),
      (found) => found === undefined,
      { timeoutMs: 60_000, intervalMs: 250, what: 'the completed workflow purged' },
    );
    expect((await client.getWorkflowState(terminated, false))?.runtimeStatus).toBe(
      WorkflowRuntimeStatus.TERMINATED,
    );
  });
});
