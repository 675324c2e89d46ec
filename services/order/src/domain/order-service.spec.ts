import { AppError } from '@ecom/shared';
import type { ListPosition, Order, Quote, TransitionResult } from './model';
import { OrderService } from './order-service';
import type { Clock, OrderStore, PriceSource, SagaClient, StatusChanges } from './ports';
import { StatusWaiters } from './status-waiters';

/** An in-memory OrderStore with the same contract as the PostgreSQL one. */
class MemoryOrderStore implements OrderStore {
  readonly orders = new Map<string, Order>();
  readonly events: { topic: string; orderId: string }[] = [];

  async create(order: Order) {
    const existing = this.orders.get(order.orderId);
    if (existing) return { created: false as const, existing };
    this.orders.set(order.orderId, { ...order });
    this.events.push({ topic: 'order_created', orderId: order.orderId });
    return { created: true as const };
  }
  async get(orderId: string) {
    return this.orders.get(orderId);
  }
  async listByCustomer(customerId: string, limit: number, after?: ListPosition) {
    const mine = [...this.orders.values()]
      .filter((o) => o.customerId === customerId)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.orderId < b.orderId ? 1 : -1));
    const start = after === undefined ? 0 : mine.findIndex((o) => o.orderId === after.orderId) + 1;
    const orders = mine.slice(start, start + limit);
    const last = orders.at(-1);
    const next =
      start + limit < mine.length && last
        ? { createdAt: last.createdAt, orderId: last.orderId, offset: start + limit }
        : null;
    return { orders, next };
  }
  async finish(
    orderId: string,
    to: 'PAID' | 'CANCELLED',
    reason: string | null,
    now: Date,
  ): Promise<TransitionResult> {
    const order = this.orders.get(orderId);
    if (!order) return undefined;
    if (order.status !== 'PENDING') return { order, changed: false };
    Object.assign(order, {
      status: to,
      cancellationReason: to === 'CANCELLED' ? reason : null,
      updatedAt: now,
    });
    this.events.push({ topic: to === 'PAID' ? 'order_paid' : 'order_cancelled', orderId });
    return { order, changed: true };
  }
}

const catalogue: Record<string, { name: string; unitPrice: number; currency: string }> = {
  MUG: { name: 'Mug', unitPrice: 1299, currency: 'USD' },
  CAP: { name: 'Cap', unitPrice: 2499, currency: 'USD' },
  EURO: { name: 'Euro thing', unitPrice: 100, currency: 'EUR' },
};

class FakePrices implements PriceSource {
  calls = 0;
  async quote(items: { sku: string }[]): Promise<Quote> {
    this.calls += 1;
    const known = items.filter((i) => catalogue[i.sku]);
    return {
      lines: known.map((i) => ({
        sku: i.sku,
        ...(catalogue[i.sku] as { name: string; unitPrice: number; currency: string }),
      })),
      unknownSkus: items.filter((i) => !catalogue[i.sku]).map((i) => i.sku),
    };
  }
}

class FakeSaga implements SagaClient {
  readonly cancels: string[] = [];
  async requestCancel(orderId: string) {
    this.cancels.push(orderId);
  }
}

/** Status changes within one process: what every replica would hear, minus the database. */
class MemoryStatusChanges implements StatusChanges {
  readonly waiters = new StatusWaiters();
  readonly announced: string[] = [];
  async announce(orderId: string) {
    this.announced.push(orderId);
    this.waiters.wake(orderId);
  }
  watch(orderId: string) {
    return this.waiters.watch(orderId);
  }
}

function setup(clock?: Clock) {
  let tick = 0;
  let id = 0;
  const store = new MemoryOrderStore();
  const prices = new FakePrices();
  const saga = new FakeSaga();
  const statusChanges = new MemoryStatusChanges();
  const service = new OrderService({
    store,
    prices,
    saga,
    clock: clock ?? { now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)) },
    ids: { newId: () => `00000000-0000-4000-8000-${String(++id).padStart(12, '0')}` },
    statusChanges,
    sagaDeadlineMs: 60_000,
  });
  return { store, prices, saga, statusChanges, service };
}

const alice = { userId: 'alice', admin: false };
const bob = { userId: 'bob', admin: false };
const admin = { userId: 'root', admin: true };
const request = {
  items: [
    { sku: 'MUG', quantity: 2 },
    { sku: 'CAP', quantity: 1 },
  ],
  paymentToken: 'tok_visa',
};

describe('OrderService', () => {
  it('places a PENDING order priced by the price source, with a deadline, and one order_created', async () => {
    const { service, store } = setup();
    const { order, replayed } = await service.place('alice', request);
    expect(replayed).toBe(false);
    expect(order).toMatchObject({
      status: 'PENDING',
      customerId: 'alice',
      total: 2 * 1299 + 2499,
      currency: 'USD',
    });
    expect(order.items).toEqual([
      { sku: 'MUG', name: 'Mug', quantity: 2, unitPrice: 1299 },
      { sku: 'CAP', name: 'Cap', quantity: 1, unitPrice: 2499 },
    ]);
    expect(order.deadline.getTime() - order.createdAt.getTime()).toBe(60_000);
    expect(store.events).toEqual([{ topic: 'order_created', orderId: order.orderId }]);
  });

  it('names unknown skus by their line and stores nothing', async () => {
    const { service, store } = setup();
    const error = await service
      .place('alice', {
        items: [
          { sku: 'MUG', quantity: 1 },
          { sku: 'NOPE', quantity: 1 },
        ],
        paymentToken: 't',
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      kind: 'INVALID_DATA',
      fields: [{ field: 'items.1.sku', message: 'unknown sku NOPE' }],
    });
    expect(store.orders.size).toBe(0);
  });

  it('refuses an order mixing currencies', async () => {
    const { service } = setup();
    await expect(
      service.place('alice', {
        items: [
          { sku: 'MUG', quantity: 1 },
          { sku: 'EURO', quantity: 1 },
        ],
        paymentToken: 't',
      }),
    ).rejects.toMatchObject({ kind: 'INVALID_DATA', fields: [{ field: 'items' }] });
  });

  it('answers a retry with the same key with the first order, without pricing again', async () => {
    const { service, prices, store } = setup();
    const first = await service.place('alice', request, 'key-1');
    const retry = await service.place('alice', request, 'key-1');
    expect(retry).toEqual({ order: first.order, replayed: true });
    expect(prices.calls).toBe(1);
    expect(store.events).toHaveLength(1);
  });

  it('answers 409 for the same key with another body; keys belong to one customer', async () => {
    const { service } = setup();
    await service.place('alice', request, 'key-1');
    await expect(
      service.place('alice', { ...request, paymentToken: 'tok_other' }, 'key-1'),
    ).rejects.toMatchObject({
      kind: 'CONFLICT',
    });
    const bobs = await service.place('bob', request, 'key-1');
    expect(bobs.replayed).toBe(false);
  });

  it('shows an order to its owner and admins only; to anyone else it does not exist', async () => {
    const { service } = setup();
    const { order } = await service.place('alice', request);
    await expect(service.get(order.orderId, alice)).resolves.toMatchObject({ orderId: order.orderId });
    await expect(service.get(order.orderId, admin)).resolves.toMatchObject({ orderId: order.orderId });
    // The same kind and message as an unknown id: the answer is no existence oracle.
    await expect(service.get(order.orderId, bob)).rejects.toMatchObject({
      kind: 'NOT_FOUND',
      message: `order ${order.orderId} does not exist`,
    });
    await expect(service.get('missing', alice)).rejects.toMatchObject({
      kind: 'NOT_FOUND',
      message: 'order missing does not exist',
    });
  });

  it('pages through own orders newest first and rejects a foreign cursor', async () => {
    const { service } = setup();
    const placed: string[] = [];
    for (let i = 0; i < 5; i += 1) placed.push((await service.place('alice', request)).order.orderId);
    await service.place('bob', request);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await service.list(alice, 2, cursor);
      seen.push(...page.items.map((o) => o.orderId));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(placed.reverse());
    await expect(service.list(alice, 2, 'garbage')).rejects.toMatchObject({ kind: 'INVALID_DATA' });
  });

  it('asks the saga to cancel a PENDING order; a final order is 409 and the saga is not asked', async () => {
    const { service, saga } = setup();
    const { order } = await service.place('alice', request);
    await service.requestCancel(order.orderId, alice);
    expect(saga.cancels).toEqual([order.orderId]);
    await expect(service.requestCancel(order.orderId, bob)).rejects.toMatchObject({ kind: 'NOT_FOUND' });
    await service.markPaid(order.orderId);
    await expect(service.requestCancel(order.orderId, alice)).rejects.toMatchObject({ kind: 'CONFLICT' });
    expect(saga.cancels).toHaveLength(1);
  });

  it('moves PENDING to PAID or CANCELLED only, idempotently, one event per change', async () => {
    const { service, store } = setup();
    const paid = (await service.place('alice', request)).order.orderId;
    const cancelled = (await service.place('alice', request)).order.orderId;
    await service.markPaid(paid);
    await service.markPaid(paid);
    await expect(service.markCancelled(paid, 'late')).rejects.toMatchObject({ kind: 'CONFLICT' });
    const c = await service.markCancelled(cancelled, 'payment_declined');
    expect(c.cancellationReason).toBe('payment_declined');
    await service.markCancelled(cancelled, 'payment_declined');
    await expect(service.markPaid(cancelled)).rejects.toMatchObject({ kind: 'CONFLICT' });
    await expect(service.markPaid('missing')).rejects.toMatchObject({ kind: 'NOT_FOUND' });
    expect(store.events.map((e) => e.topic)).toEqual([
      'order_created',
      'order_created',
      'order_paid',
      'order_cancelled',
    ]);
  });
});

describe('OrderService.waitUntilFinal', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** A service whose clock is the fake timers' (Date.now moves with them). */
  const waiting = () => setup({ now: () => new Date() });

  it('answers as soon as the order becomes final, woken by its announcement', async () => {
    const { service, statusChanges } = waiting();
    const { order } = await service.place('alice', request);
    let answer: Order | undefined;
    const waited = service.waitUntilFinal(order.orderId, alice, 25_000).then((o) => (answer = o));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(answer).toBeUndefined();
    await service.markPaid(order.orderId);
    await jest.advanceTimersByTimeAsync(0);
    expect(answer?.status).toBe('PAID');
    await waited;
    expect(statusChanges.announced).toEqual([order.orderId]);
    expect(statusChanges.waiters.size).toBe(0);
  });

  it('answers at once for a final order and waits for nothing', async () => {
    const { service, statusChanges } = waiting();
    const { order } = await service.place('alice', request);
    await service.markCancelled(order.orderId, 'payment_declined');
    const answer = await service.waitUntilFinal(order.orderId, alice, 25_000);
    expect(answer).toMatchObject({ status: 'CANCELLED', cancellationReason: 'payment_declined' });
    expect(statusChanges.waiters.size).toBe(0);
  });

  it('answers the order as it stands at the deadline, read again then', async () => {
    const { service, store, statusChanges } = waiting();
    const { order } = await service.place('alice', request);
    let answer: Order | undefined;
    void service.waitUntilFinal(order.orderId, alice, 2_000).then((o) => (answer = o));
    await jest.advanceTimersByTimeAsync(1_999);
    expect(answer).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);
    expect(answer?.status).toBe('PENDING');
    expect(statusChanges.waiters.size).toBe(0);

    // A change whose announcement was lost still shows in the read at the deadline.
    void service.waitUntilFinal(order.orderId, alice, 2_000).then((o) => (answer = o));
    await jest.advanceTimersByTimeAsync(500);
    await store.finish(order.orderId, 'PAID', null, new Date());
    await jest.advanceTimersByTimeAsync(1_500);
    expect(answer?.status).toBe('PAID');
  });

  it('keeps waiting after a wake that changed nothing, until the same deadline', async () => {
    const { service, statusChanges } = waiting();
    const { order } = await service.place('alice', request);
    let answer: Order | undefined;
    void service.waitUntilFinal(order.orderId, alice, 5_000).then((o) => (answer = o));
    await jest.advanceTimersByTimeAsync(1_000);
    statusChanges.waiters.wakeAll();
    await jest.advanceTimersByTimeAsync(3_999);
    expect(answer).toBeUndefined();
    expect(statusChanges.waiters.size).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(answer?.status).toBe('PENDING');
  });

  it('stops waiting when the client leaves', async () => {
    const { service, statusChanges } = waiting();
    const { order } = await service.place('alice', request);
    const left = new AbortController();
    const waited = service.waitUntilFinal(order.orderId, alice, 25_000, left.signal);
    await jest.advanceTimersByTimeAsync(100);
    expect(statusChanges.waiters.size).toBe(1);
    left.abort();
    await expect(waited).resolves.toMatchObject({ status: 'PENDING' });
    expect(statusChanges.waiters.size).toBe(0);
  });

  it('answers another customer exactly as without a wait, at once', async () => {
    const { service, statusChanges } = waiting();
    const { order } = await service.place('alice', request);
    await expect(service.waitUntilFinal(order.orderId, bob, 25_000)).rejects.toMatchObject({
      kind: 'NOT_FOUND',
    });
    expect(statusChanges.waiters.size).toBe(0);
  });
});
