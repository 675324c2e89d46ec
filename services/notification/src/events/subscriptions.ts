import type { EventSubscriber } from '@ecom/shared';
import type { NotificationService } from '../domain/notification-service';

/**
 * Every event that tells a customer something; each handler is idempotent (one notification per
 * event and channel). Not payment_success: the order_paid mail, a moment later, is the receipt.
 */
export function subscribeNotifications(subscriber: EventSubscriber, service: NotificationService): void {
  subscriber
    .on('user_registered', (e) => service.onUserRegistered(e))
    .on('order_created', (e) => service.onOrderCreated(e))
    .on('payment_failed', (e) => service.onPaymentFailed(e))
    .on('order_paid', (e) => service.onOrderPaid(e))
    .on('order_cancelled', (e) => service.onOrderCancelled(e))
    .on('notification_send', (e) => service.onNotificationSend(e));
}
