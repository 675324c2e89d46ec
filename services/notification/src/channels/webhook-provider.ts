import type { Channel, DeliveryReceipt, Notification } from '../domain/notification';
import { PermanentDeliveryError } from '../domain/notification';
import type { ChannelProvider } from '../domain/ports';

export interface WebhookOptions {
  channel: Extract<Channel, 'sms' | 'push'>;
  url: string;
  /** Sent as `Authorization: Bearer …` when set. */
  token?: string;
  timeoutMs: number;
}

/**
 * SMS and push through an HTTP provider: POSTs `{id, channel, to, subject,
 * text}` as JSON. 2xx is delivered; 4xx (other than 408/429) is permanent;
 * anything else is retried. The provider can dedupe on `id` (Idempotency-Key).
 */
export class WebhookProvider implements ChannelProvider {
  readonly channel: Extract<Channel, 'sms' | 'push'>;

  constructor(private readonly options: WebhookOptions) {
    this.channel = options.channel;
  }

  async send(notification: Notification): Promise<DeliveryReceipt> {
    const response = await fetch(this.options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'idempotency-key': notification.id,
        ...(this.options.token ? { authorization: `Bearer ${this.options.token}` } : {}),
      },
      body: JSON.stringify({
        id: notification.id,
        channel: notification.channel,
        to: notification.recipient,
        subject: notification.subject,
        text: notification.body,
      }),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const answer = `${response.status} ${(await response.text()).slice(0, 500)}`.trim();
    if (response.ok) return { providerResponse: answer };
    if (
      response.status >= 400 &&
      response.status < 500 &&
      response.status !== 408 &&
      response.status !== 429
    ) {
      throw new PermanentDeliveryError(`${this.channel} provider refused: ${answer}`);
    }
    throw new Error(`${this.channel} provider failed: ${answer}`);
  }
}
