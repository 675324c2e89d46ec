import { randomUUID } from 'node:crypto';
import { buildEvent } from '@ecom/shared';
import { publishAsOwner } from '../stack/test/support/publish-as';
import { consistently } from '../stack/test/support/eventually';
import {
  admin,
  availableOf,
  call,
  finalOrder,
  newCustomer,
  newProduct,
  order,
  paymentsOf,
  placeOrder,
  reservationOf,
  sagaOf,
  stockCounters,
  type Customer,
} from './support/shop';

describe('order saga: the happy path through Dapr Workflow', () => {
  let customer: Customer;

  beforeAll(async () => {
    customer = await newCustomer();
  });

  it('takes an order to PAID with its stock sold and exactly one charge', async () => {
    const product = await newProduct(5, 1_999);
    const orderId = await order(customer, [{ sku: product.sku, quantity: 2 }]);

    const paid = await finalOrder(customer, orderId);

    expect(paid).toMatchObject({ status: 'PAID', total: 3_998, currency: 'USD' });
    expect(await stockCounters(product.sku)).toEqual({ available: 3, reserved: 0, sold: 2 });
    expect(await reservationOf(orderId)).toMatchObject({ status: 'COMMITTED' });
    const payments = await paymentsOf(orderId);
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({ status: 'SUCCEEDED', amount: 3_998, refund: null });
  });

  it('keeps a step timeline its customer can read and others cannot', async () => {
    const product = await newProduct(1);
    const orderId = await order(customer, [{ sku: product.sku, quantity: 1 }]);
    await finalOrder(customer, orderId);

    const mine = await sagaOf(orderId, customer.token);
    expect(mine.status).toBe(200);
    expect(mine.body.status).toBe('COMPLETED');
    expect(mine.body.steps.map((s) => [s.name, s.status])).toEqual([
      ['reserve_stock', 'COMPLETED'],
      ['charge_payment', 'COMPLETED'],
      ['commit_stock', 'COMPLETED'],
      ['mark_paid', 'COMPLETED'],
    ]);
    for (const s of mine.body.steps) {
      expect(s.attempts).toBe(1);
      expect(Date.parse(s.endedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(s.startedAt));
    }
    const stranger = await newCustomer();
    expect((await sagaOf(orderId, stranger.token)).status).toBe(404);

    const listed = await call<{ items: { orderId: string; status: string }[]; nextCursor: string | null }>(
      'saga',
      'GET',
      '/sagas?status=COMPLETED&limit=50',
      { token: await admin() },
    );
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((s) => s.orderId)).toContain(orderId);
    expect(listed.body.items.every((s) => s.status === 'COMPLETED')).toBe(true);
    if (listed.body.nextCursor) {
      const next = await call<{ items: { orderId: string }[] }>(
        'saga',
        'GET',
        `/sagas?status=COMPLETED&limit=50&cursor=${listed.body.nextCursor}`,
        { token: await admin() },
      );
      expect(next.body.items.map((s) => s.orderId)).not.toContain(orderId);
    }
    expect((await call('saga', 'GET', '/sagas', { token: customer.token })).status).toBe(403);
    expect((await call('saga', 'GET', '/sagas?status=DONE', { token: await admin() })).status).toBe(400);
  });

  it('creates an order once for a retried request with the same Idempotency-Key', async () => {
    const product = await newProduct(3);
    const key = randomUUID();
    const items = [{ sku: product.sku, quantity: 1 }];
    const [first, second] = await Promise.all([
      placeOrder(customer, items, 'tok_visa', key),
      placeOrder(customer, items, 'tok_visa', key),
    ]);
    const third = await placeOrder(customer, items, 'tok_visa', key);
    expect([first.status, second.status, third.status].every((s) => s === 202 || s === 200)).toBe(true);
    expect(new Set([first.body.orderId, second.body.orderId, third.body.orderId]).size).toBe(1);
    const differentBody = await placeOrder(customer, [{ sku: product.sku, quantity: 2 }], 'tok_visa', key);
    expect(differentBody.status).toBe(409);

    await finalOrder(customer, first.body.orderId);
    expect(await stockCounters(product.sku)).toEqual({ available: 2, reserved: 0, sold: 1 });
    expect(await paymentsOf(first.body.orderId)).toHaveLength(1);
  });

  it('runs one saga for an order_created delivered several times', async () => {
    const product = await newProduct(4, 500);
    const orderId = await order(customer, [{ sku: product.sku, quantity: 1 }]);
    // The same event again (a redelivery) and a copy under a new event id, while the saga runs and after.
    const duplicate = buildEvent('order_created', {
      orderId,
      customerId: customer.userId,
      items: [{ sku: product.sku, quantity: 1, unitPrice: 500 }],
      total: 500,
      currency: 'USD',
      paymentToken: 'tok_visa',
      deadline: new Date(Date.now() + 60_000).toISOString(),
    });
    await publishAsOwner('order_created', duplicate);
    await publishAsOwner('order_created', duplicate);
    await finalOrder(customer, orderId);
    await publishAsOwner('order_created', { ...duplicate, eventId: randomUUID() });
    await publishAsOwner('order_created', duplicate);

    // Nothing moves while the duplicates are consumed: one reservation sold, one charge, one pass per step.
    await consistently(
      async () => ({
        stock: await stockCounters(product.sku),
        payments: (await paymentsOf(orderId)).length,
        saga: (await sagaOf(orderId)).body,
      }),
      (seen) =>
        seen.stock.sold === 1 &&
        seen.stock.available === 3 &&
        seen.payments === 1 &&
        seen.saga.status === 'COMPLETED' &&
        seen.saga.steps.length === 4 &&
        seen.saga.steps.every((s) => s.attempts === 1),
      { durationMs: 3_000, what: 'a single effect of duplicated order_created' },
    );
    expect(await availableOf(product.sku)).toBe(3);
  });
});
