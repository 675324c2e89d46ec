import { AppError, currentContext } from '@ecom/shared';
import type { SagaEngine } from './saga-engine';
import type { SagaLog } from './saga-log';
import { finalSagaStatuses, type OrderSagaInput, type SagaPolicy, type SagaVersion } from './saga';

export interface OrderCreated {
  orderId: string;
  customerId: string;
  items: OrderSagaInput['items'];
  total: number;
  currency: string;
  paymentToken: string;
  deadline: string;
}

/** Starts sagas from order_created and routes customer cancels to them. */
export class SagaService {
  constructor(
    private readonly engine: SagaEngine,
    private readonly log: SagaLog,
    private readonly policy: SagaPolicy,
    /** The version new instances start with (SAGA_START_VERSION). */
    private readonly startVersion: SagaVersion,
  ) {}

  /**
   * Idempotent: a redelivered order_created finds the instance and schedules
   * nothing. A cancel that arrived before the saga existed is delivered now.
   */
  async onOrderCreated(event: OrderCreated): Promise<void> {
    // The log outlives the workflow's own state (which a retention policy may purge): an ended saga never restarts.
    const status = await this.log.open({
      orderId: event.orderId,
      customerId: event.customerId,
      deadline: event.deadline,
    });
    if (status && finalSagaStatuses.includes(status)) return;
    // No "does it exist?" round trip first: Dapr refuses a running instance, and start() takes that as done.
    await this.engine.start({
      orderId: event.orderId,
      customerId: event.customerId,
      items: event.items,
      total: event.total,
      currency: event.currency,
      paymentToken: event.paymentToken,
      deadline: event.deadline,
      policy: this.policy,
      version: this.startVersion,
      ...traceOfDelivery(),
    });
    if (await this.log.isCancelRequested(event.orderId)) await this.engine.cancel(event.orderId);
  }

  /**
   * Records the cancel first, then raises it: if the saga is not scheduled yet,
   * onOrderCreated sees the record after scheduling and raises it then.
   */
  async requestCancel(orderId: string): Promise<void> {
    const status = await this.log.requestCancel(orderId);
    if (status && finalSagaStatuses.includes(status)) {
      throw AppError.conflict(`the saga of order ${orderId} already ended (${status})`);
    }
    await this.engine.cancel(orderId);
  }
}

/** The trace context of the order_created delivery being handled, to carry into the workflow. */
function traceOfDelivery(): Pick<OrderSagaInput, 'trace'> {
  const context = currentContext();
  if (!context?.traceparent) return {};
  return {
    trace: {
      traceparent: context.traceparent,
      ...(context.tracestate ? { tracestate: context.tracestate } : {}),
    },
  };
}
