import type { DaprWorkflowClient } from '@dapr/dapr';
import { AppError } from '@ecom/shared';
import type { OrderSagaInput } from '../domain/saga';
import type { SagaEngine } from '../domain/saga-engine';
import { CANCEL_EVENT, ORDER_SAGA_WORKFLOW } from './names';

/** gRPC NOT_FOUND, and the words Dapr uses when an instance is unknown or already there. */
const GRPC_NOT_FOUND = 5;
function grpcCode(error: unknown): number | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : undefined;
}
function mentions(error: unknown, ...words: string[]): boolean {
  const message = error instanceof Error ? error.message.toLowerCase() : String(error).toLowerCase();
  return words.some((w) => message.includes(w));
}
function unavailable(what: string, error: unknown): AppError {
  return new AppError('UNAVAILABLE', `workflow engine: ${what} failed`, { cause: error });
}

/** Dapr Workflow as the saga engine; instance id = order id. */
export class DaprSagaEngine implements SagaEngine {
  constructor(private readonly client: DaprWorkflowClient) {}

  async start(input: OrderSagaInput): Promise<void> {
    try {
      await this.client.scheduleNewWorkflow(ORDER_SAGA_WORKFLOW, input, input.orderId);
    } catch (error) {
      // A duplicate delivery of order_created: "an active workflow with ID '…' already exists".
      if (mentions(error, 'already exists')) return;
      throw unavailable('schedule', error);
    }
  }

  async cancel(orderId: string): Promise<boolean> {
    try {
      await this.client.raiseEvent(orderId, CANCEL_EVENT, { reason: 'customer_cancelled' });
      return true;
    } catch (error) {
      if (grpcCode(error) === GRPC_NOT_FOUND || mentions(error, 'not found', 'no such instance'))
        return false;
      throw unavailable('raise cancel', error);
    }
  }
}
