import { z } from 'zod';

/**
 * The event catalogue: every topic ecom-micro publishes, its payload schema and
 * TypeScript type. Publishers and subscribers both go through this map, so a
 * topic name is spelled exactly once, here.
 *
 * Every payload carries the envelope: a unique `eventId` (consumers dedupe on
 * it), `occurredAt`, a `schemaVersion`, and the id of the aggregate it is about.
 */

const money = {
  /** Integer amount in minor units (cents). */
  amount: z.number().int().nonnegative(),
  /** ISO 4217 currency code. */
  currency: z.string().regex(/^[A-Z]{3}$/),
};

const envelope = {
  eventId: z.uuid(),
  occurredAt: z.iso.datetime({ offset: true }),
  schemaVersion: z.literal(1),
};

const orderEnvelope = { ...envelope, orderId: z.uuid() };

const orderLine = z.object({
  sku: z.string().min(1),
  quantity: z.number().int().positive(),
  unitPrice: z.number().int().nonnegative(),
});

/** A line that could not be reserved: how much was asked and how much was left. */
const shortfall = z.object({ sku: z.string(), requested: z.number().int(), available: z.number().int() });

export const eventSchemas = {
  /** An order was accepted PENDING; the saga starts on it. */
  order_created: z.object({
    ...orderEnvelope,
    customerId: z.string().min(1),
    items: z.array(orderLine).min(1),
    total: money.amount,
    currency: money.currency,
    /** The payment method the customer chose (a provider token, never card data). */
    paymentToken: z.string().min(1),
    /** When the saga must have finished; past it, the order is cancelled. */
    deadline: z.iso.datetime({ offset: true }),
  }),
  /** Stock for every line of the order is held until `expiresAt`. */
  inventory_reserved: z.object({
    ...orderEnvelope,
    items: z.array(z.object({ sku: z.string(), quantity: z.number().int().positive() })),
    expiresAt: z.iso.datetime({ offset: true }),
  }),
  /** Some lines could not be reserved; nothing was held. */
  inventory_failed: z.object({ ...orderEnvelope, reason: z.string(), shortfalls: z.array(shortfall) }),
  /** A reservation was given back (compensation, cancel or expiry). */
  inventory_released: z.object({ ...orderEnvelope, reason: z.string() }),
  /** A reservation was turned into a sale. */
  inventory_committed: z.object({ ...orderEnvelope }),
  /** The charge succeeded. */
  payment_success: z.object({ ...orderEnvelope, paymentId: z.uuid(), ...money }),
  /** The charge was declined or the provider failed. */
  payment_failed: z.object({
    ...orderEnvelope,
    code: z.enum(['declined', 'insufficient_funds', 'provider_error']),
    reason: z.string(),
  }),
  /** A charge was refunded (compensation of a cancelled order). */
  payment_refunded: z.object({ ...orderEnvelope, paymentId: z.uuid(), refundId: z.uuid(), ...money }),
  /** The order completed: paid and its stock sold. */
  order_paid: z.object({
    ...orderEnvelope,
    customerId: z.string(),
    total: money.amount,
    currency: money.currency,
  }),
  /** The order ended without a sale; every effect was compensated. */
  order_cancelled: z.object({ ...orderEnvelope, customerId: z.string(), reason: z.string() }),
  /** A new account exists. */
  user_registered: z.object({
    ...envelope,
    userId: z.string().min(1),
    email: z.email(),
    name: z.string(),
    roles: z.array(z.string()),
  }),
  /** Ask notification to send a message directly. */
  notification_send: z.object({
    ...envelope,
    userId: z.string().min(1),
    channel: z.enum(['email', 'sms', 'push']),
    template: z.string().min(1),
    data: z.record(z.string(), z.unknown()).default({}),
    orderId: z.uuid().optional(),
  }),
} as const;

export type EventName = keyof typeof eventSchemas;
export type EventPayload<K extends EventName> = z.infer<(typeof eventSchemas)[K]>;
/** What a publisher supplies: the payload without the envelope fields the publisher fills in. */
export type EventInput<K extends EventName> = Omit<
  EventPayload<K>,
  'eventId' | 'occurredAt' | 'schemaVersion'
>;

export const eventNames = Object.keys(eventSchemas) as EventName[];

/** The dead-letter topic of an event's topic. */
export function deadLetterTopic(name: EventName): string {
  return `${name}_dlq`;
}

/** The aggregate an event is about, for logs and Kafka partitioning. */
export function aggregateIdOf(name: EventName, payload: Record<string, unknown>): string {
  const id = name === 'user_registered' ? payload.userId : (payload.orderId ?? payload.userId);
  return typeof id === 'string' ? id : '';
}
