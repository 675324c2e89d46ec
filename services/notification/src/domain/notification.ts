export const channels = ['email', 'sms', 'push'] as const;
export type Channel = (typeof channels)[number];

export const statuses = ['queued', 'sent', 'failed'] as const;
export type NotificationStatus = (typeof statuses)[number];

/** A message to one recipient over one channel, caused by one event; its history is kept. */
export interface Notification {
  /** `<eventId>:<channel>`: one notification per event and channel, however often the event arrives. */
  id: string;
  eventId: string;
  eventType: string;
  userId: string;
  orderId?: string;
  channel: Channel;
  /** Email address, E.164 number, or user id (push). */
  recipient: string;
  template: string;
  /** The values the template is filled with (kept so a deferred notification can be rendered later). */
  data?: Record<string, unknown>;
  /** True while the user or order it is for is not known yet: it is rendered once they are. */
  awaitingContext?: boolean;
  subject: string;
  body: string;
  status: NotificationStatus;
  attempts: number;
  /** When the next delivery attempt may start (also the lease of an attempt in progress). */
  nextAttemptAt: Date;
  /** What the provider answered to the last attempt (SMTP reply, webhook response). */
  providerResponse?: string;
  lastError?: string;
  createdAt: Date;
  updatedAt: Date;
  sentAt?: Date;
}

/** What a channel provider answered to a delivery. */
export interface DeliveryReceipt {
  providerResponse: string;
}

/** A provider refused the message for good (no retry helps): a bad address, no provider configured. */
export class PermanentDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentDeliveryError';
  }
}
