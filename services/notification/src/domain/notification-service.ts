import type { EventName, EventPayload } from '@ecom/shared';
import { PermanentDeliveryError, type Channel, type Notification } from './notification';
import type { Dispatcher } from './dispatcher';
import type { Clock, Directory, NotificationStore, Recipient } from './ports';
import { formatMoney, render } from './templates';

export interface NotificationServiceDeps {
  directory: Directory;
  store: NotificationStore;
  clock: Clock;
  /**
   * How long a notification whose user or order is not known yet waits for the
   * event that introduces them (user_registered, order_created) before it is
   * recorded as failed. The wait happens in the notification queue, never by
   * refusing the event, so one stray event cannot hold up a Kafka partition.
   */
  waitForContextMs: number;
  /** Push goes out only where a push provider is configured. */
  pushEnabled: boolean;
  /**
   * The dispatcher: a notification is stored already leased to this process for its first attempt
   * (`firstLease`), then handed over (`deliver`) to be attempted now, with no claim. One a redelivered
   * event finds already stored is handed over too (`recheck`), to be claimed once its lease has ended:
   * the delivery that stored it may have failed before attempting it.
   */
  queue: Pick<Dispatcher, 'firstLease' | 'deliver' | 'recheck'>;
}

interface Planned {
  /** Undefined when the order's customer is not known yet. */
  userId: string | undefined;
  orderId?: string;
  channel: Channel;
  template: string;
  data: Record<string, unknown>;
}

/** A notification whose recipient is now known and whose message is rendered. */
export type Resolution =
  | { outcome: 'resolved'; fields: Pick<Notification, 'userId' | 'recipient' | 'subject' | 'body'> }
  | { outcome: 'wait' }
  | { outcome: 'failed'; error: PermanentDeliveryError };

/**
 * Turns events into stored notifications. Each (event, channel) pair has one
 * id, so a redelivered event finds its notification already there and nothing
 * is sent twice; delivery itself is the dispatcher's.
 */
export class NotificationService {
  constructor(private readonly deps: NotificationServiceDeps) {}

  async onUserRegistered(event: EventPayload<'user_registered'>): Promise<void> {
    await this.deps.directory.saveRecipient({ userId: event.userId, email: event.email, name: event.name });
    await this.enqueue('user_registered', event.eventId, [
      {
        userId: event.userId,
        channel: 'email',
        template: 'welcome',
        data: { name: event.name, email: event.email },
      },
    ]);
  }

  async onOrderCreated(event: EventPayload<'order_created'>): Promise<void> {
    await this.deps.directory.saveOrderCustomer(event.orderId, event.customerId);
    const data = { orderId: event.orderId, total: formatMoney(event.total, event.currency) };
    await this.enqueue('order_created', event.eventId, [
      this.order(event.customerId, event.orderId, 'email', 'order_created', data),
    ]);
  }

  async onPaymentFailed(event: EventPayload<'payment_failed'>): Promise<void> {
    const data = { orderId: event.orderId, reason: event.reason };
    const customerId = await this.deps.directory.findOrderCustomer(event.orderId);
    await this.enqueue('payment_failed', event.eventId, [
      this.order(customerId, event.orderId, 'email', 'payment_failed', data),
    ]);
  }

  async onOrderPaid(event: EventPayload<'order_paid'>): Promise<void> {
    // The customer is not remembered here: the order is over, and no later event asks who it was
    // (payment_failed, the one event without it, never comes for a paid order).
    const data = { orderId: event.orderId, total: formatMoney(event.total, event.currency) };
    const planned = [this.order(event.customerId, event.orderId, 'email', 'order_paid', data)];
    if (this.deps.pushEnabled)
      planned.push(this.order(event.customerId, event.orderId, 'push', 'order_paid', data));
    await this.enqueue('order_paid', event.eventId, planned);
  }

  async onOrderCancelled(event: EventPayload<'order_cancelled'>): Promise<void> {
    await this.deps.directory.saveOrderCustomer(event.orderId, event.customerId);
    const data = { orderId: event.orderId, reason: event.reason };
    await this.enqueue('order_cancelled', event.eventId, [
      this.order(event.customerId, event.orderId, 'email', 'order_cancelled', data),
    ]);
  }

  async onNotificationSend(event: EventPayload<'notification_send'>): Promise<void> {
    await this.enqueue('notification_send', event.eventId, [
      {
        userId: event.userId,
        channel: event.channel,
        template: event.template,
        data: event.data,
        ...(event.orderId ? { orderId: event.orderId } : {}),
      },
    ]);
  }

  /**
   * Completes a notification stored before its user or order was known: the
   * dispatcher calls this before sending one that is `awaitingContext`.
   */
  async resolve(notification: Notification): Promise<Resolution> {
    const userId =
      notification.userId ||
      (notification.orderId ? await this.deps.directory.findOrderCustomer(notification.orderId) : undefined);
    const recipient = userId ? await this.deps.directory.findRecipient(userId) : undefined;
    if (!userId || !recipient) {
      const age = this.deps.clock.now().getTime() - notification.createdAt.getTime();
      if (age < this.deps.waitForContextMs) return { outcome: 'wait' };
      return { outcome: 'failed', error: new PermanentDeliveryError('recipient is not known') };
    }
    const message = compose(notification.channel, notification.template, recipient, notification.data ?? {});
    if (message instanceof PermanentDeliveryError) return { outcome: 'failed', error: message };
    return { outcome: 'resolved', fields: { userId, ...message } };
  }

  private order(
    userId: string | undefined,
    orderId: string,
    channel: Channel,
    template: string,
    data: Record<string, unknown>,
  ): Planned {
    return { userId, orderId, channel, template, data };
  }

  private async enqueue(eventType: EventName, eventId: string, planned: Planned[]): Promise<void> {
    const created: Notification[] = [];
    const existing: string[] = [];
    for (const plan of planned) {
      const recipient =
        plan.userId === undefined ? undefined : await this.deps.directory.findRecipient(plan.userId);
      const message = recipient ? compose(plan.channel, plan.template, recipient, plan.data) : undefined;
      const now = this.deps.clock.now();
      const failure = message instanceof PermanentDeliveryError ? message.message : undefined;
      const composed = message instanceof PermanentDeliveryError ? undefined : message;
      const notification: Notification = {
        id: `${eventId}:${plan.channel}`,
        eventId,
        eventType,
        userId: plan.userId ?? '',
        ...(plan.orderId ? { orderId: plan.orderId } : {}),
        channel: plan.channel,
        recipient: composed?.recipient ?? '',
        template: plan.template,
        subject: composed?.subject ?? '',
        body: composed?.body ?? '',
        data: plan.data,
        // A message that can never be delivered is recorded as failed right away, not retried.
        status: failure ? 'failed' : 'queued',
        awaitingContext: !recipient,
        // Queued: leased to this process for its first attempt, as a claim would (one write fewer).
        ...(failure ? { attempts: 0, nextAttemptAt: now } : this.deps.queue.firstLease(now)),
        ...(failure ? { lastError: failure } : {}),
        createdAt: now,
        updatedAt: now,
      };
      const stored = await this.deps.store.insertIfAbsent(notification);
      if (failure) continue;
      if (stored === 'created') created.push(notification);
      else existing.push(notification.id);
    }
    if (created.length > 0) this.deps.queue.deliver(created);
    if (existing.length > 0) this.deps.queue.recheck(existing);
  }
}

/** Renders the template for the recipient and picks the channel's address. */
function compose(
  channel: Channel,
  template: string,
  recipient: Recipient,
  data: Record<string, unknown>,
): { recipient: string; subject: string; body: string } | PermanentDeliveryError {
  const rendered = render(template, { name: recipient.name, email: recipient.email, ...data });
  if (!rendered) return new PermanentDeliveryError(`unknown template '${template}'`);
  const address = addressOf(channel, recipient, data);
  if (address instanceof PermanentDeliveryError) return address;
  return { recipient: address, ...rendered };
}

function addressOf(
  channel: Channel,
  recipient: Recipient,
  data: Record<string, unknown>,
): string | PermanentDeliveryError {
  switch (channel) {
    case 'email':
      return recipient.email;
    case 'sms': {
      const phone = typeof data.phone === 'string' ? data.phone : recipient.phone;
      return phone && /^\+[1-9]\d{6,14}$/.test(phone)
        ? phone
        : new PermanentDeliveryError('no E.164 phone number for this user');
    }
    case 'push':
      return recipient.userId;
  }
}
