import { buildEvent, type DaprStateStore, type Versioned } from '@ecom/shared';
import { z } from 'zod';
import type { ListPosition, Order, OrderPage, TransitionResult } from '../domain/model';
import type { OrderStore } from '../domain/ports';

/** An order as the state store keeps it: the domain order with ISO dates, plus its creation instant in ms for queries. */
const orderDocument = z.object({
  orderId: z.string(),
  customerId: z.string(),
  status: z.enum(['PENDING', 'PAID', 'CANCELLED']),
  items: z.array(
    z.object({ sku: z.string(), name: z.string(), quantity: z.number(), unitPrice: z.number() }),
  ),
  total: z.number(),
  currency: z.string(),
  paymentToken: z.string(),
  cancellationReason: z.string().nullable(),
  idempotencyKey: z.string().nullable(),
  requestHash: z.string().nullable(),
  deadline: z.iso.datetime(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
type OrderDocument = z.infer<typeof orderDocument>;

/** The key of an order in order's state store (Dapr prefixes it with the app id in the table). */
export const keyOf = (orderId: string) => `order-${orderId}`;

/** An order as the state store keeps it. */
export function toDocument(order: Order): OrderDocument {
  return {
    ...order,
    deadline: order.deadline.toISOString(),
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}

function toOrder(raw: unknown): Order {
  const doc = orderDocument.parse(raw);
  return {
    ...doc,
    deadline: new Date(doc.deadline),
    createdAt: new Date(doc.createdAt),
    updatedAt: new Date(doc.updatedAt),
  };
}

/** True when `order` is listed after `position` (newest first, ties by id, descending). */
function comesAfter(order: Order, position: ListPosition): boolean {
  const at = order.createdAt.getTime();
  const then = position.createdAt.getTime();
  return at < then || (at === then && order.orderId < position.orderId);
}

/** The event a status move publishes. */
function moveEvent(order: Order) {
  return order.status === 'PAID'
    ? {
        name: 'order_paid' as const,
        payload: buildEvent('order_paid', {
          orderId: order.orderId,
          customerId: order.customerId,
          total: order.total,
          currency: order.currency,
        }),
      }
    : {
        name: 'order_cancelled' as const,
        payload: buildEvent('order_cancelled', {
          orderId: order.orderId,
          customerId: order.customerId,
          reason: order.cancellationReason ?? 'cancelled',
        }),
      };
}

/** How often a status move re-reads and retries after losing an ETag race before it gives up. */
const MAX_ATTEMPTS = 10;

/**
 * Orders in order's Dapr state store (state.postgresql in its own database). Each change is one
 * state transaction with its event, published by Dapr's outbox: order_created with a new order
 * (first-write: a retried Idempotency-Key names the same id and cannot create a second one), and
 * order_paid / order_cancelled with the status move (guarded by the ETag it was read with).
 */
export class DaprOrderStore implements OrderStore {
  constructor(private readonly state: DaprStateStore) {}

  async create(order: Order): Promise<{ created: true } | { created: false; existing: Order }> {
    const event = buildEvent('order_created', {
      orderId: order.orderId,
      customerId: order.customerId,
      items: order.items.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice })),
      total: order.total,
      currency: order.currency,
      paymentToken: order.paymentToken,
      deadline: order.deadline.toISOString(),
    });
    const result = await this.state.write(
      keyOf(order.orderId),
      toDocument(order),
      { create: true },
      { name: 'order_created', payload: event },
    );
    if (result === 'written') return { created: true };
    const existing = await this.get(order.orderId);
    if (!existing) throw new Error(`order ${order.orderId} lost a create race but cannot be read`);
    return { created: false, existing };
  }

  async get(orderId: string): Promise<Order | undefined> {
    return (await this.read(orderId))?.order;
  }

  /**
   * A customer's orders through Dapr's state query API over order's own table, newest first
   * (ISO instants sort as text). Chosen over a read model fed by order's own events: the query
   * answers at once, while a read model would lag each new order by the outbox's 1 s. The query
   * pages by offset; the position's keyset skips what an earlier page showed, so orders placed
   * in between neither repeat nor hide one.
   */
  async listByCustomer(customerId: string, limit: number, after?: ListPosition): Promise<OrderPage> {
    const found: { order: Order; index: number }[] = [];
    let start = after?.offset ?? 0;
    for (;;) {
      const page = await this.state.query({
        filter: { EQ: { customerId } },
        sort: [
          { key: 'createdAt', order: 'DESC' },
          { key: 'orderId', order: 'DESC' },
        ],
        page: { limit: limit + 1, token: String(start) },
      });
      page.items.forEach((item, i) => {
        const order = toOrder(item.value);
        if (after === undefined || comesAfter(order, after)) found.push({ order, index: start + i });
      });
      if (found.length > limit || page.items.length <= limit) break;
      start += page.items.length;
    }
    const shown = found.slice(0, limit);
    const last = shown.at(-1);
    return {
      orders: shown.map((f) => f.order),
      next:
        found.length > limit && last !== undefined
          ? { createdAt: last.order.createdAt, orderId: last.order.orderId, offset: last.index + 1 }
          : null,
    };
  }

  async finish(
    orderId: string,
    to: 'PAID' | 'CANCELLED',
    reason: string | null,
    now: Date,
  ): Promise<TransitionResult> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const current = await this.read(orderId);
      if (!current) return undefined;
      if (current.order.status !== 'PENDING') return { order: current.order, changed: false };
      const order: Order = {
        ...current.order,
        status: to,
        cancellationReason: to === 'CANCELLED' ? (reason ?? 'cancelled') : null,
        updatedAt: now,
      };
      const written = await this.state.write(
        keyOf(orderId),
        toDocument(order),
        { etag: current.etag },
        moveEvent(order),
      );
      if (written === 'written') return { order, changed: true };
      // Another move won the race: read again; it is final now, or this one retries.
    }
    throw new Error(`order ${orderId}: no status move after ${MAX_ATTEMPTS} ETag conflicts`);
  }

  private async read(orderId: string): Promise<{ order: Order; etag: string } | undefined> {
    const stored: Versioned<unknown> | undefined = await this.state.get(keyOf(orderId));
    return stored === undefined ? undefined : { order: toOrder(stored.value), etag: stored.etag };
  }
}
