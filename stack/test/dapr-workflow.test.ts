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
import { startTestApp, type TestApp } from './support/test-app';

const appId = 'workflow-probe';

/** The probe app's own actor state store (exactly one per sidecar). */
const actorStore = pgStateComponent(localComponentValues(loadStackSettings()), {
  name: 'probe-actorstate',
  appId,
  table: 'workflow_probe',
  metadata: { actorStateStore: 'true' },
});

describe('Dapr Workflow on placement, scheduler and a PostgreSQL actor state store', () => {
  let app: TestApp;
  let runtime: WorkflowRuntime;
  let client: DaprWorkflowClient;
  const activityCalls: string[] = [];

  beforeAll(async () => {
    app = await startTestApp({
      appId,
      extraResources: [actorStore],
    });
    const options = { daprHost: '127.0.0.1', daprPort: String(app.daprGrpcPort) };

    const greet = async (_ctx: WorkflowActivityContext, name: string): Promise<string> => {
      activityCalls.push(name);
      return `hello ${name}`;
    };
    // Workflows must be generators registered under explicit names (bundlers rename functions).
    const probe = async function* (
      ctx: WorkflowContext,
      name: string,
    ): AsyncGenerator<unknown, { greeting: string; waitedMs: number }> {
      const started = ctx.getCurrentUtcDateTime().getTime();
      const greeting = (yield ctx.callActivity('probe_greet', name)) as string;
      yield ctx.createTimer(2);
      return { greeting, waitedMs: ctx.getCurrentUtcDateTime().getTime() - started };
    };
    runtime = new WorkflowRuntime(options)
      .registerWorkflowWithName('probe_workflow', probe)
      .registerActivityWithName('probe_greet', greet);
    await runtime.start();
    client = new DaprWorkflowClient(options);
  });

  afterAll(async () => {
    await client?.stop();
    await runtime?.stop();
    await app?.stop();
  });

  it('runs a workflow with an activity and a durable timer to completion', async () => {
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
