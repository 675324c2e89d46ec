import { z } from 'zod';
import type { ServiceAppId } from '../access/who-may-call';

/**
 * The command catalogue: every call one service makes to another's internal routes, with its path,
 * its callers, the body it sends and the reply it gets. Caller and callee both go through this map
 * (`sendCommand` and `commandRoute`), so a command is spelled once, here, as the events are in
 * events/catalogue.ts; who-may-call.ts renders the access-control policies from it.
 *
 * Every command is a POST, idempotent, and keyed by the order id: a repeat returns the recorded
 * outcome (services/README.md).
 */

export const skuSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
    '1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit',
  );
const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD');
const quantity = z.number().int().min(1).max(1000);
const reason = z.string().min(1).max(200);
const orderIdParams = z.object({ orderId: z.uuid() });
const noParams = z.object({});

export interface CommandSpec {
  callee: ServiceAppId;
  callers: readonly ServiceAppId[];
  /** Relative to the callee; `:orderId` is the one parameter a command path has. */
  path: string;
  params: z.ZodType<Record<string, string>>;
  request: z.ZodType;
  reply: z.ZodType;
  /** The success status (200 unless said). */
  status?: number;
}

export const commands = {
  /** Current prices of some SKUs: order prices a new order, the saga may re-check. */
  quote: {
    callee: 'inventory',
    callers: ['order', 'saga'],
    path: 'internal/quotes',
    params: noParams,
    request: z.strictObject({
      items: z
        .array(z.strictObject({ sku: skuSchema, quantity }))
        .min(1)
        .max(50),
    }),
    reply: z.object({
      lines: z.array(z.object({ sku: z.string(), name: z.string(), unitPrice: z.number().int(), currency })),
      unknownSkus: z.array(z.string()),
    }),
  },
  /** Hold stock for every line of an order until the TTL, or hold nothing. */
  reserveStock: {
    callee: 'inventory',
    callers: ['saga'],
    path: 'internal/reservations',
    params: noParams,
    request: z.object({
      orderId: z.uuid(),
      // Lines as the saga forwards them from order_created: extra fields (unitPrice) are ignored.
      items: z
        .array(z.object({ sku: skuSchema, quantity }))
        .min(1)
        .max(50),
      ttlSeconds: z.number().int().min(1).max(86_400).default(900),
    }),
    // The lines and amounts are optional here so that an answer without them reaches the saga's
    // outcome checks, which fail the step, instead of being refused as malformed and retried.
    reply: z.union([
      z.object({
        outcome: z.literal('reserved'),
        expiresAt: z.string(),
        items: z.array(z.object({ sku: z.string(), quantity: z.number() })).optional(),
      }),
      z.object({
        outcome: z.literal('failed'),
        reason: z.string().optional(),
        shortfalls: z
          .array(z.object({ sku: z.string(), requested: z.number(), available: z.number() }))
          .optional(),
      }),
    ]),
  },
  /** Turn the reservation into a sale (CONFLICT when it was released or expired). */
  commitStock: {
    callee: 'inventory',
    callers: ['saga'],
    path: 'internal/reservations/:orderId/commit',
    params: orderIdParams,
    request: z.object({}),
    reply: z.object({ outcome: z.literal('committed') }),
  },
  /** Give the reservation back (compensation, cancel). */
  releaseStock: {
    callee: 'inventory',
    callers: ['saga'],
    path: 'internal/reservations/:orderId/release',
    params: orderIdParams,
    request: z.object({ reason: reason.default('released') }).default({ reason: 'released' }),
    reply: z.object({ outcome: z.enum(['released', 'not_reserved', 'already_committed']) }),
  },
  /** Charge the order's total once; a repeat returns the recorded charge. */
  charge: {
    callee: 'payment',
    callers: ['saga'],
    path: 'internal/charges',
    params: noParams,
    request: z.object({
      orderId: z.uuid(),
      amount: z.number().int().min(0).max(2_000_000_000),
      currency,
      paymentToken: z.string().min(1).max(200),
      /** Optional: the order's customer; payment also learns it from order_created. */
      customerId: z.string().min(1).max(200).optional(),
    }),
    reply: z.union([
      z.object({
        outcome: z.literal('succeeded'),
        paymentId: z.string(),
        amount: z.number().optional(),
        currency: z.string().optional(),
      }),
      z.object({
        outcome: z.enum(['declined', 'insufficient_funds', 'provider_error']),
        reason: z.string().optional(),
      }),
    ]),
  },
  /** Refund a successful charge and void the order, so a late charge is refused. */
  refund: {
    callee: 'payment',
    callers: ['saga'],
    path: 'internal/refunds',
    params: noParams,
    request: z.object({ orderId: z.uuid(), reason: reason.default('compensation') }),
    reply: z.union([
      z.object({ outcome: z.literal('refunded'), refundId: z.string(), paymentId: z.string() }),
      z.object({ outcome: z.literal('nothing_to_refund') }),
    ]),
  },
  /** The order is paid (CONFLICT when it is already CANCELLED). */
  markPaid: {
    callee: 'order',
    callers: ['saga'],
    path: 'internal/orders/:orderId/paid',
    params: orderIdParams,
    request: z.object({}),
    reply: z.object({ orderId: z.string(), status: z.string() }),
  },
  /** The order ended without a sale (CONFLICT when it is already PAID). */
  markCancelled: {
    callee: 'order',
    callers: ['saga'],
    path: 'internal/orders/:orderId/cancelled',
    params: orderIdParams,
    request: z.object({ reason }),
    reply: z.object({ orderId: z.string(), status: z.string(), cancellationReason: z.string().nullable() }),
  },
  /** A customer's cancel of a PENDING order, forwarded by order to the saga running it. */
  cancelSaga: {
    callee: 'saga',
    callers: ['order'],
    path: 'internal/sagas/:orderId/cancel',
    params: orderIdParams,
    request: z
      .object({ reason: z.literal('customer_cancelled').default('customer_cancelled') })
      .default({ reason: 'customer_cancelled' }),
    reply: z.object({ orderId: z.string(), status: z.literal('CANCEL_REQUESTED') }),
    status: 202,
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof commands;
export type CommandRequest<K extends CommandName> = z.input<(typeof commands)[K]['request']>;
export type CommandInput<K extends CommandName> = z.output<(typeof commands)[K]['request']>;
export type CommandParams<K extends CommandName> = z.output<(typeof commands)[K]['params']>;
export type CommandReply<K extends CommandName> = z.output<(typeof commands)[K]['reply']>;

/** The command's path with its order id filled in (encoded), relative to the callee. */
export function commandPath(name: CommandName, orderId?: string): string {
  const { path } = commands[name];
  if (!path.includes(':orderId')) return path;
  if (orderId === undefined) throw new Error(`command ${name} needs an order id`);
  return path.replace(':orderId', encodeURIComponent(orderId));
}
