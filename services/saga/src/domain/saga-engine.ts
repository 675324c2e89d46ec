import type { OrderSagaInput } from './saga';

/** The workflow engine as the saga service needs it (Dapr Workflow behind it). */
export interface SagaEngine {
  /** True when a saga instance with this order id was ever scheduled. */
  exists(orderId: string): Promise<boolean>;
  /** Schedules the saga; an instance that already exists is left alone. */
  start(input: OrderSagaInput): Promise<void>;
  /** Delivers a customer's cancel to a running saga; false when there is no instance (yet). */
  cancel(orderId: string): Promise<boolean>;
}
