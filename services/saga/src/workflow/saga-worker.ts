import { WorkflowRuntime } from '@dapr/dapr';
import type { Logger } from '@ecom/shared';
import { createActivities, type SagaClients } from './activities';
import { ORDER_SAGA_WORKFLOW } from './names';
import { orderSagaWorkflow } from './order-saga-workflow';

export interface SagaWorkerOptions {
  dapr: { daprHost: string; daprPort: string };
  clients: SagaClients;
  logger: Logger;
  /** How many workflow workers the sidecar sees connected; rejects when the sidecar is unreachable. */
  connectedWorkers: () => Promise<number>;
  pollIntervalMs?: number;
  /** How long a fresh runtime may take to show up as connected before it is replaced. */
  connectGraceMs?: number;
}

/**
 * Hosts the saga's workflow runtime and keeps it connected. The SDK's worker
 * gives up for good when its first stream fails (the sidecar is not up yet, or
 * restarts), and otherwise backs off up to 30 s. So the supervisor asks the
 * sidecar whether a worker is connected and starts a fresh runtime when none is.
 */
export class SagaWorker {
  private runtime: WorkflowRuntime | undefined;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private healthy = false;
  private checking: Promise<void> = Promise.resolve();

  constructor(private readonly options: SagaWorkerOptions) {}

  /** True while the sidecar reports this worker connected. */
  get connected(): boolean {
    return this.healthy;
  }

  start(): void {
    const tick = () => {
      this.checking = this.check()
        .catch((error: unknown) => {
          this.options.logger.error({ err: error }, 'workflow runtime supervision failed; retrying');
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.pollIntervalMs ?? 1_000);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.checking;
    await this.stopRuntime();
  }

  private async check(): Promise<void> {
    let workers: number;
    try {
      workers = await this.options.connectedWorkers();
    } catch {
      if (this.healthy) this.options.logger.warn('saga sidecar unreachable; workflows wait for it');
      this.healthy = false;
      return;
    }
    if (workers > 0 && this.runtime) {
      if (!this.healthy) this.options.logger.info('workflow runtime connected to the sidecar');
      this.healthy = true;
      return;
    }
    this.healthy = false;
    if (this.runtime && Date.now() - this.startedAt < (this.options.connectGraceMs ?? 3_000)) return;
    if (this.runtime) this.options.logger.warn('workflow worker lost its sidecar stream; starting a new one');
    await this.stopRuntime();
    const runtime = this.build();
    this.runtime = runtime;
    this.startedAt = Date.now();
    await runtime.start();
  }

  private async stopRuntime(): Promise<void> {
    const runtime = this.runtime;
    this.runtime = undefined;
    try {
      await runtime?.stop();
    } catch (error) {
      // The SDK refuses to stop a worker that already died: nothing left to stop.
      this.options.logger.debug({ err: error }, 'previous workflow runtime already stopped');
    }
  }

  private build(): WorkflowRuntime {
    const runtime = new WorkflowRuntime(this.options.dapr).registerWorkflowWithName(
      ORDER_SAGA_WORKFLOW,
      orderSagaWorkflow,
    );
    for (const [name, activity] of Object.entries(createActivities(this.options.clients))) {
      runtime.registerActivityWithName(name, activity);
    }
    return runtime;
  }
}
