import { AppError } from '@ecom/shared';
import { orderCursor } from './cursor';
import { idempotentOrderId } from './order-id';
import type { Order, OrderLine, Page, PlaceOrderRequest, Viewer } from './model';
import type { Clock, IdGenerator, OrderStore, PriceSource, SagaClient, StatusChanges } from './ports';
import { requestHash } from './request-hash';

export interface OrderServiceDeps {
  store: OrderStore;
  prices: PriceSource;
  saga: SagaClient;
  clock: Clock;
  ids: IdGenerator;
  /** Wakes clients waiting for an order's final status, on every replica. */
  statusChanges: StatusChanges;
  /** How long the saga has to finish an order. */
  sagaDeadlineMs: number;
}

/** The largest total an order may have (the column is a 32-bit integer of minor units). */
export const MAX_ORDER_TOTAL = 2_000_000_000;

/**
 * The order's use cases. An order starts PENDING and ends PAID or CANCELLED,
 * moved there only by the saga; the customer can ask the saga to cancel.
 */
export class OrderService {
  constructor(private readonly deps: OrderServiceDeps) {}

  /** Places an order for `customerId`; a retry with the same idempotency key answers the first order. */
  async place(
    customerId: string,
    request: PlaceOrderRequest,
    idempotencyKey?: string,
  ): Promise<{ order: Order; replayed: boolean }> {
    const hash = requestHash(request);
    const orderId =
      idempotencyKey === undefined ? this.deps.ids.newId() : idempotentOrderId(customerId, idempotencyKey);
    if (idempotencyKey !== undefined) {
      // Saves a quote for the common retry; the store's first-write guard is what makes it safe.
      const existing = await this.deps.store.get(orderId);
      if (existing) return { order: this.sameRequest(existing, hash), replayed: true };
    }
    const items = await this.price(request.items);
    const currency = items.currency;
    const total = items.lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
    if (total > MAX_ORDER_TOTAL) {
      throw AppError.invalid('the order total is too large', [
        { field: 'items', message: 'total too large' },
      ]);
    }
    const now = this.deps.clock.now();
    const order: Order = {
      orderId,
      customerId,
      status: 'PENDING',
      items: items.lines,
      total,
      currency,
      paymentToken: request.paymentToken,
      cancellationReason: null,
      idempotencyKey: idempotencyKey ?? null,
      requestHash: idempotencyKey === undefined ? null : hash,
      deadline: new Date(now.getTime() + this.deps.sagaDeadlineMs),
      createdAt: now,
      updatedAt: now,
    };
    const stored = await this.deps.store.create(order);
    if (stored.created) return { order, replayed: false };
    return { order: this.sameRequest(stored.existing, hash), replayed: true };
  }

  /**
   * An order for its customer or an admin. Another customer's order answers
   * exactly like an unknown id, so the answer never tells whether an order exists.
   */
  async get(orderId: string, viewer: Viewer): Promise<Order> {
    const order = await this.deps.store.get(orderId);
    if (!order || (!viewer.admin && order.customerId !== viewer.userId)) {
      throw AppError.notFound(`order ${orderId} does not exist`);
    }
    return order;
  }

  /**
   * The order once it is PAID or CANCELLED, or as it stands when `waitMs` runs out (or the client
   * leaves, `signal`). Woken by the order's own status changes, announced by whichever replica
   * made them; each wake reads the order again, so a spurious one costs a read, and the read at the
   * deadline catches a change whose announcement was lost. Another customer's order is 404 at once.
   */
  async waitUntilFinal(
    orderId: string,
    viewer: Viewer,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<Order> {
    const deadline = this.deps.clock.now().getTime() + waitMs;
    for (;;) {
      // Watch before reading: a change between the read and the wait would otherwise go unseen.
      const watch = this.deps.statusChanges.watch(orderId);
      try {
        const order = await this.get(orderId, viewer);
        const left = deadline - this.deps.clock.now().getTime();
        if (order.status !== 'PENDING' || left <= 0) return order;
        const end = await watch.next(left, signal);
        if (end === 'aborted') return order;
        if (end !== 'changed') return await this.get(orderId, viewer);
      } finally {
        watch.close();
      }
    }
  }

  async list(viewer: Viewer, limit: number, cursor?: string): Promise<Page<Order>> {
    const after = cursor === undefined ? undefined : orderCursor.decode(cursor);
    const page = await this.deps.store.listByCustomer(viewer.userId, limit, after);
    return { items: page.orders, nextCursor: page.next === null ? null : orderCursor.encode(page.next) };
  }

  /** Asks the saga to cancel a PENDING order; the saga compensates and then marks it CANCELLED. */
  async requestCancel(orderId: string, viewer: Viewer): Promise<Order> {
    const order = await this.get(orderId, viewer);
    if (order.status !== 'PENDING') throw AppError.conflict(`order ${orderId} is already ${order.status}`);
    await this.deps.saga.requestCancel(orderId, 'customer_cancelled');
    return order;
  }

  async markPaid(orderId: string): Promise<Order> {
    return this.finish(orderId, 'PAID', null);
  }

  async markCancelled(orderId: string, reason: string): Promise<Order> {
    return this.finish(orderId, 'CANCELLED', reason);
  }

  private async finish(orderId: string, to: 'PAID' | 'CANCELLED', reason: string | null): Promise<Order> {
    const result = await this.deps.store.finish(orderId, to, reason, this.deps.clock.now());
    if (!result) throw AppError.notFound(`order ${orderId} does not exist`);
    if (result.order.status !== to) {
      throw AppError.conflict(`order ${orderId} is ${result.order.status} and cannot become ${to}`);
    }
    // Also when this call changed nothing: the saga repeats a command whose answer it lost, and the
    // replica that first made the change may have died before announcing it.
    await this.deps.statusChanges.announce(orderId);
    return result.order;
  }

  private sameRequest(existing: Order, hash: string): Order {
    if (existing.requestHash !== hash) {
      throw AppError.conflict('this Idempotency-Key was already used for a different request');
    }
    return existing;
  }

  /** Prices every line from inventory; unknown skus and mixed currencies are the client's mistake. */
  private async price(items: PlaceOrderRequest['items']): Promise<{ lines: OrderLine[]; currency: string }> {
    const quote = await this.deps.prices.quote(items);
    const unknown = new Set(quote.unknownSkus);
    const bySku = new Map(quote.lines.map((l) => [l.sku, l]));
    const fields = items.flatMap((item, i) =>
      unknown.has(item.sku) || !bySku.has(item.sku)
        ? [{ field: `items.${i}.sku`, message: `unknown sku ${item.sku}` }]
        : [],
    );
    if (fields.length > 0) throw AppError.invalid('some skus do not exist', fields);
    const lines = items.map((item) => {
      const quoted = bySku.get(item.sku);
      if (!quoted) throw new AppError('INTERNAL', `no quote for ${item.sku}`);
      return {
        sku: item.sku,
        name: quoted.name,
        quantity: item.quantity,
        unitPrice: quoted.unitPrice,
        currency: quoted.currency,
      };
    });
    const currencies = new Set(lines.map((l) => l.currency));
    const [currency] = currencies;
    if (currencies.size !== 1 || currency === undefined) {
      throw AppError.invalid('all items of an order must be priced in one currency', [
        { field: 'items', message: `mixed currencies: ${[...currencies].join(', ')}` },
      ]);
    }
    return { lines: lines.map(({ currency: _currency, ...line }) => line), currency };
  }
}
