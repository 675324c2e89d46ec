import type { EventSubscriber } from '@ecom/shared';
import type { PaymentService } from '../domain/payment-service';

/** Payment learns who placed each order from order_created, so customers can see their own payments. */
export function subscribeOrderOwners(subscriber: EventSubscriber, payments: PaymentService): EventSubscriber {
  return subscriber.on('order_created', async (event) => {
    // Idempotent by itself (the first owner stays), so a redelivery changes nothing.
    await payments.rememberOwner(event.orderId, event.customerId);
  });
}
