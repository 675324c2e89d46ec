import type { Client } from 'pg';
import type { OrderService } from '../src/domain/order-service';
import { connectOrderDb, ordersOverState, seedPendingOrder } from './support/orders';
import { call, newCustomer, type TestCustomer } from './support/tokens';

interface OrderView {
  orderId: string;
  status: string;
  cancellationReason?: string;
}
interface Problem {
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

/**
 * GET /orders/:id?waitSeconds through the edge against the running order service. The orders are
 * seeded PENDING with no saga behind them, and this process moves them as another replica of order
 * would (the state store, then pg_notify on order's database): the running service's wait can only
 * end early through the database it shares with that replica.
 */
describe('waiting for an order’s final status (GET /orders/:id?waitSeconds)', () => {
  let db: Client;
  let orders: OrderService;
  let customer: TestCustomer;
  let other: TestCustomer;

  beforeAll(async () => {
    [db, customer, other] = await Promise.all([connectOrderDb(), newCustomer(), newCustomer()]);
    orders = ordersOverState(db);
  });

  afterAll(async () => {
    await db?.end();
  });

  const get = (orderId: string, query: string, token = customer.token) =>
    call<OrderView & Problem>('order', 'GET', `/orders/${orderId}${query}`, { token });

  it('answers as soon as the order becomes final, well before its deadline', async () => {
    const orderId = await seedPendingOrder(db, customer.userId);
    const started = performance.now();
    const waiting = get(orderId, '?waitSeconds=25');
    // Long enough for the request to be waiting when the change lands; the test holds either way.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await orders.markPaid(orderId);
    const answer = await waiting;
    const elapsedMs = performance.now() - started;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ orderId, status: 'PAID' });
    expect(elapsedMs).toBeLessThan(25_000);
  });

  it('answers a cancellation the same way, with its reason', async () => {
    const orderId = await seedPendingOrder(db, customer.userId);
    const started = performance.now();
    const waiting = get(orderId, '?waitSeconds=25');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await orders.markCancelled(orderId, 'payment_declined');
    const answer = await waiting;
    expect(answer.body).toMatchObject({ status: 'CANCELLED', cancellationReason: 'payment_declined' });
    expect(performance.now() - started).toBeLessThan(25_000);
  });

  it('answers a final order at once', async () => {
    const orderId = await seedPendingOrder(db, customer.userId);
    await orders.markPaid(orderId);
    const started = performance.now();
    const answer = await get(orderId, '?waitSeconds=25');
    expect(answer.body.status).toBe('PAID');
    expect(performance.now() - started).toBeLessThan(25_000);
  });

  it('answers the order as it stands when the wait runs out', async () => {
    const orderId = await seedPendingOrder(db, customer.userId);
    const started = performance.now();
    const answer = await get(orderId, '?waitSeconds=2');
    const elapsedMs = performance.now() - started;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ orderId, status: 'PENDING' });
    // It waited (timers may fire a hair early against this clock), and not for long past the deadline.
    expect(elapsedMs).toBeGreaterThanOrEqual(1_900);
    expect(elapsedMs).toBeLessThan(15_000);
  });

  it('refuses a wait outside 0-30 whole seconds, naming waitSeconds', async () => {
    const orderId = await seedPendingOrder(db, customer.userId);
    for (const bad of ['31', 'abc', '-1', '1.5']) {
      const answer = await get(orderId, `?waitSeconds=${bad}`);
      expect([bad, answer.status]).toEqual([bad, 400]);
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.body.errors?.map((e) => e.field)).toEqual(['waitSeconds']);
    }
  });

  it('answers another customer’s order exactly as without a wait, and at once', async () => {
    const orderId = await seedPendingOrder(db, customer.userId);
    const plain = await get(orderId, '', other.token);
    const started = performance.now();
    const waited = await get(orderId, '?waitSeconds=25', other.token);
    expect(performance.now() - started).toBeLessThan(25_000);
    expect(waited.status).toBe(plain.status);
    expect(waited.status).toBe(404);
    expect(waited.body.detail).toBe(plain.body.detail);
  });
});
