import { loadStackSettings } from '../src/stack';
import { isAlive, readPid } from '../src/supervisor';
import { FLOOR_APP_ID, measureWorkflowFloor } from '../src/workflow-floor';

describe("the bench's bare-workflow floor", () => {
  it('runs its workflows, charges them the CPU of the stack, its sidecar and its worker, and stops its sidecar', async () => {
    const s = loadStackSettings();
    const cpuOf = new Map<string, number>();
    for (const name of ['postgres', 'scheduler', 'placement']) {
      const pid = readPid(name);
      if (pid === undefined) throw new Error(`the stack's ${name} is not running`);
      cpuOf.set(name, pid);
    }

    const floor = await measureWorkflowFloor(s, { workflows: 20, concurrency: 5, cpuOf });

    expect(floor).toMatchObject({ workflows: 20, concurrency: 5 });
    expect(floor.workflowsPerSecond).toBeGreaterThan(0);
    // Each workflow's turns go through its sidecar into PostgreSQL, and its worker here runs them.
    expect(floor.cpuMsPerWorkflow).toBeGreaterThan(0);
    expect(floor.workerAndClientCpuMsPerWorkflow).toBeGreaterThan(0);
    expect(isAlive(readPid(`${FLOOR_APP_ID}-dapr`))).toBe(false);
  });
});
