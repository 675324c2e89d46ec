import type { OrderSagaInput } from './saga';

/** The workflow engine as the saga service needs it (Dapr Workflow behind it). */
export interface SagaEngine {
  /**
   * Schedules the saga; a running instance with this order id is left alone. An ended one would be
   * started anew (Dapr recreates a completed instance), so the caller asks the saga log first: every
   * way a saga ends records its final status there before the workflow completes.
   */
  start(input: OrderSagaInput): Promise<void>;
  /** Delivers a customer's cancel to a running saga; false when there is no instance (yet). */
  cancel(orderId: string): Promise<boolean>;
}
