import type { Channel, DeliveryReceipt, Notification, NotificationStatus } from './notification';

export interface Clock {
  now(): Date;
}

/** Who a user is, as learnt from user_registered (this service never reads another's database). */
export interface Recipient {
  userId: string;
  email: string;
  name: string;
  phone?: string;
}

export interface Directory {
  saveRecipient(recipient: Recipient): Promise<void>;
  findRecipient(userId: string): Promise<Recipient | undefined>;
  /** Remembers an order's customer (payment events carry only the order id). */
  saveOrderCustomer(orderId: string, customerId: string): Promise<void>;
  findOrderCustomer(orderId: string): Promise<string | undefined>;
}

export interface NotificationQuery {
  userId?: string;
  status?: NotificationStatus;
  limit: number;
  after?: { createdAt: Date; id: string };
}

export interface NotificationStore {
  /** Stores a queued notification unless one with the same id exists. */
  insertIfAbsent(notification: Notification): Promise<'created' | 'exists'>;
  /** Ids of notifications due for an attempt (queued, `nextAttemptAt` passed), in no particular order. */
  dueIds(now: Date, limit: number): Promise<string[]>;
  /**
   * Takes a due notification for an attempt: bumps `attempts` and moves
   * `nextAttemptAt` forward by the lease, so no other dispatcher takes it
   * meanwhile. Undefined when it is not due (sent, leased, or deferred).
   */
  claim(id: string, now: Date, leaseMs: number): Promise<Notification | undefined>;
  /** Fills in what a deferred notification lacked (recipient, rendered message), during its attempt. */
  resolve(
    id: string,
    attempt: number,
    fields: Pick<Notification, 'userId' | 'recipient' | 'subject' | 'body'>,
  ): Promise<void>;
  /** Records an attempt's outcome, only if the notification is still in that attempt. */
  complete(id: string, attempt: number, update: AttemptOutcome): Promise<void>;
  find(query: NotificationQuery): Promise<Notification[]>;
  findById(id: string): Promise<Notification | undefined>;
}

export type AttemptOutcome =
  | { status: 'sent'; at: Date; providerResponse: string }
  | { status: 'queued'; nextAttemptAt: Date; error: string; providerResponse?: string }
  /** Still waiting for its user or order: not an attempt, so it does not count against the limit. */
  | { status: 'deferred'; nextAttemptAt: Date }
  | { status: 'failed'; at: Date; error: string; providerResponse?: string };

/** Delivers over one channel. Throws to ask for a retry, PermanentDeliveryError to give up. */
export interface ChannelProvider {
  readonly channel: Channel;
  send(notification: Notification): Promise<DeliveryReceipt>;
}
