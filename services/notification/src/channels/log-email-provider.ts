import type { Logger } from '@ecom/shared';
import type { DeliveryReceipt, Notification } from '../domain/notification';
import type { ChannelProvider } from '../domain/ports';

/**
 * Email provider `log`: a stack with no mail server (the EcomStack default) writes each message to the
 * structured log instead of sending it, and records it as delivered by the log. Nothing is lost and
 * nothing waits on a server that does not exist.
 */
export class LogEmailProvider implements ChannelProvider {
  readonly channel = 'email' as const;

  constructor(
    private readonly logger: Logger,
    private readonly from: string,
  ) {}

  send(notification: Notification): Promise<DeliveryReceipt> {
    this.logger.info(
      {
        notificationId: notification.id,
        from: this.from,
        to: notification.recipient,
        orderId: notification.orderId,
        subject: notification.subject,
      },
      'email written to the log (email provider "log")',
    );
    return Promise.resolve({ providerResponse: 'logged' });
  }
}
