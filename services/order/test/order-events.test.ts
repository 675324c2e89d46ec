import { randomUUID } from 'node:crypto';
import type { EventName } from '@ecom/shared';
import type { Client } from 'pg';
import { consistently, eventually } from '../../../stack/test/support/eventually';
import { startEventObserver } from '../../../stack/test/support/event-observer';
import type { TestApp } from '../../../stack/test/support/test-app';
import { connectOrderDb, ordersOverState, seedPendingOrder } from './support/orders';
import { call, newCustomer, type TestCustomer } from './support/tokens';

const observed = ['order_created', 'order_cancelled'] as const satisfies EventName[];

describe('order events leave through the outbox, exactly one per change', () => {
  const received: { topic: EventName; eventId: string; orderId: string; customerId: string }[] = [];
  let probe: TestApp;
  let db: Client;
  let customer: TestCustomer;

  beforeAll(async () => {
    [db, customer] = await Promise.all([connectOrderDb(), newCustomer()]);
    probe = await startEventObserver('order-events-probe', observed, (topic, event) => {
      received.push({ topic, eventId: event.eventId, orderId: event.orderId, customerId: event.customerId });
    });
  });

  afterAll(async () => {
    await Promise.all([probe?.stop(), db?.end()]);
  });

  const about = (orderId: string, topic: EventName) => async () =>
    received.filter((e) => e.orderId === orderId && e.topic === topic);

  it('publishes one order_created per order, even when the request is retried', async () => {
    const key = randomUUID();
    const body = { items: [{ sku: 'SKU-MUG-CLASSIC', quantity: 1 }], paymentMethod: { token: 'tok_visa' } };
    const placed = await call<{ orderId: string }>('order', 'POST', '/orders', {
      token: customer.token,
      body,
      headers: { 'Idempotency-Key': key },
    });
    expect(placed.status).toBe(202);
    const retried = await call<{ orderId: string }>('order', 'POST', '/orders', {
      token: customer.token,
      body,
      headers: { 'Idempotency-Key': key },
    });
    expect(retried.body.orderId).toBe(placed.body.orderId);
    const seen = about(placed.body.orderId, 'order_created');
    await eventually(seen, (events) => events.length >= 1, {
      what: 'order_created delivered',
      timeoutMs: 60_000,
    });
    await consistently(seen, (events) => events.length === 1, {
      durationMs: 3_000,
      what: 'one order_created',
    });
  });

  it('publishes one order_cancelled for repeated cancel commands', async () => {
    const orders = ordersOverState();
    const orderId = await seedPendingOrder(db, customer.userId);
    await Promise.all([1, 2, 3].map(() => orders.markCancelled(orderId, 'customer_cancelled')));
    const seen = about(orderId, 'order_cancelled');
    await eventually(seen, (events) => events.length >= 1, {
      what: 'order_cancelled delivered',
      timeoutMs: 60_000,
    });
    await consistently(seen, (events) => events.length === 1, {
      durationMs: 3_000,
      what: 'one order_cancelled',
    });
  });

  it('publishes nothing for a rejected request', async () => {
    const shopper = await newCustomer();
    const rejected = await call('order', 'POST', '/orders', {
      token: shopper.token,
      body: { items: [{ sku: 'NOPE', quantity: 1 }], paymentMethod: { token: 'tok_visa' } },
    });
    expect(rejected.status).toBe(400);
    const accepted = await call<{ orderId: string }>('order', 'POST', '/orders', {
      token: shopper.token,
      body: { items: [{ sku: 'SKU-MUG-CLASSIC', quantity: 1 }], paymentMethod: { token: 'tok_visa' } },
    });
    // Dapr's outbox forwards each event about 1 s after its commit: keep watching past that.
    const ofShopper = async () =>
      received.filter((e) => e.topic === 'order_created' && e.customerId === shopper.userId);
    const events = await eventually(ofShopper, (list) => list.length >= 1, {
      what: 'the accepted order_created',
    });
    expect(events.map((e) => e.orderId)).toEqual([accepted.body.orderId]);
    await consistently(ofShopper, (list) => list.length === 1, {
      durationMs: 3_000,
      what: 'no other order_created',
    });
  });
});
