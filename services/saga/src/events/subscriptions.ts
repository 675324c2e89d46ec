import type { EventSubscriber } from '@ecom/shared';
import type { SagaService } from '../domain/saga-service';

/** order_created starts the saga; a handler error makes Dapr redeliver (nothing is acked half-done). */
export function subscribeSagaStarts(subscriber: EventSubscriber, service: SagaService): void {
  subscriber.on('order_created', async (event) => {
    await service.onOrderCreated(event);
  });
}
