import { EventSubscriber, type Logger } from '@ecom/shared';
import type { SagaService } from '../domain/saga-service';

/** order_created starts the saga; a handler error makes Dapr redeliver (nothing is acked half-done). */
export function sagaSubscriptions(logger: Logger, service: SagaService): EventSubscriber {
  return new EventSubscriber(logger).on('order_created', async (event) => {
    await service.onOrderCreated(event);
  });
}
