import { AppError, type DaprSidecar } from '@ecom/shared';
import { z } from 'zod';
import type {
  ChargeOutcome,
  InventoryPort,
  OrderPort,
  PaymentPort,
  RefundOutcome,
  ReleaseOutcome,
  ReserveOutcome,
} from '../domain/participants';

/** The participants' app ids (services/README.md). */
export const participantApps = { inventory: 'inventory', payment: 'payment', order: 'order' } as const;

const reserveOutcome = z.union([
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
]);
const chargeOutcome = z.union([
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
]);
const releaseOutcome = z.object({ outcome: z.enum(['released', 'not_reserved', 'already_committed']) });
const refundOutcome = z.union([
  z.object({ outcome: z.literal('refunded'), refundId: z.string(), paymentId: z.string() }),
  z.object({ outcome: z.literal('nothing_to_refund') }),
]);

/** A participant answering outside the contract is a bug there, not a reason to retry forever. */
function parseAnswer<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new AppError('INVALID_DATA', `${what} answered outside the contract: ${parsed.error.message}`);
  }
  return parsed.data;
}

/** The saga's participants reached by Dapr service invocation; every command is keyed by the order id. */
export function createDaprParticipants(
  sidecar: DaprSidecar,
  timeoutMs: number,
): { inventory: InventoryPort; payment: PaymentPort; order: OrderPort } {
  const post = async (appId: string, path: string, body: unknown = {}): Promise<unknown> =>
    (await sidecar.invoke<unknown>(appId, 'POST', path, { body, timeoutMs })).body;
  const id = encodeURIComponent;

  const inventory: InventoryPort = {
    async reserve(orderId, items, ttlSeconds): Promise<ReserveOutcome> {
      const body = await post(participantApps.inventory, 'internal/reservations', {
        orderId,
        items,
        ttlSeconds,
      });
      return parseAnswer(reserveOutcome, body, 'inventory reserve');
    },
    async commit(orderId): Promise<void> {
      await post(participantApps.inventory, `internal/reservations/${id(orderId)}/commit`);
    },
    async release(orderId, reason): Promise<ReleaseOutcome> {
      const body = await post(participantApps.inventory, `internal/reservations/${id(orderId)}/release`, {
        reason,
      });
      return parseAnswer(releaseOutcome, body, 'inventory release');
    },
  };
  const payment: PaymentPort = {
    async charge(command): Promise<ChargeOutcome> {
      return parseAnswer(
        chargeOutcome,
        await post(participantApps.payment, 'internal/charges', command),
        'charge',
      );
    },
    async refund(orderId, reason): Promise<RefundOutcome> {
      const body = await post(participantApps.payment, 'internal/refunds', { orderId, reason });
      return parseAnswer(refundOutcome, body, 'refund');
    },
  };
  const order: OrderPort = {
    async markPaid(orderId): Promise<void> {
      await post(participantApps.order, `internal/orders/${id(orderId)}/paid`);
    },
    async markCancelled(orderId, reason): Promise<void> {
      await post(participantApps.order, `internal/orders/${id(orderId)}/cancelled`, { reason });
    },
  };
  return { inventory, payment, order };
}
