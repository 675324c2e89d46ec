import { AppError, sendCommand, type DaprSidecar } from '@ecom/shared';
import type { SagaClient } from '../domain/ports';

/** Asks the saga (Dapr service invocation) to cancel an order it is running. */
export class DaprSagaClient implements SagaClient {
  constructor(private readonly sidecar: DaprSidecar) {}

  async requestCancel(orderId: string, reason: 'customer_cancelled'): Promise<void> {
    try {
      await sendCommand(this.sidecar, 'cancelSaga', { reason }, { orderId });
    } catch (error) {
      // The saga may not have picked the order up yet: that is "try again", not "no such order".
      if (error instanceof AppError && error.kind === 'NOT_FOUND') {
        throw new AppError('UNAVAILABLE', 'the order saga is not ready yet; retry shortly', {
          cause: error,
          retryAfterSeconds: 1,
        });
      }
      if (error instanceof AppError && error.kind === 'CONFLICT') throw error;
      throw new AppError('UNAVAILABLE', 'cannot reach the order saga; retry shortly', {
        cause: error,
        retryAfterSeconds: 1,
      });
    }
  }
}
