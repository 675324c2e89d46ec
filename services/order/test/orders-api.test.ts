import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { connectOrderDb, ordersOf, ordersOverState, seedPendingOrder } from './support/orders';
import { adminToken, call, newCustomer, type TestCustomer } from './support/tokens';

interface Placed {
  orderId: string;
  status: string;
}
interface OrderView {
  orderId: string;
  customerId: string;
  status: string;
  items: { sku: string; quantity: number; unitPrice: number }[];
  total: number;
  currency: string;
  cancellationReason?: string;
}
interface Problem {
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

const mug = { sku: 'SKU-MUG-CLASSIC', quantity: 2 };
const cap = { sku: 'SKU-CAP-NAVY', quantity: 1 };
const order = (items: unknown[] = [mug, cap], token = 'tok_visa') => ({ items, paymentMethod: { token } });

describe('order HTTP API through Dapr', () => {
  let db: Client;
  let customer: TestCustomer;
  let other: TestCustomer;
  let admin: string;

  beforeAll(async () => {
    [db, customer, other, admin] = await Promise.all([
      connectOrderDb(),
      newCustomer(),
      newCustomer(),
      adminToken(),
    ]);
  });

  afterAll(async () => {
    await db?.end();
  });

  function place(body: unknown, token = customer.token, headers: Record<string, string> = {}) {
    return call<Placed & Problem>('order', 'POST', '/orders', { token, body, headers });
  }

  it('accepts an order PENDING, priced by inventory, for the customer of the token', async () => {
    const placed = await place(order());
    expect(placed.status).toBe(202);
    expect(placed.body.status).toBe('PENDING');
    expect(placed.headers.get('location')).toBe(`/orders/${placed.body.orderId}`);
    const seen = await call<OrderView>('order', 'GET', `/orders/${placed.body.orderId}`, {
      token: customer.token,
    });
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({
      orderId: placed.body.orderId,
      customerId: customer.userId,
      currency: 'USD',
      total: 2 * 1299 + 2499,
      items: [
        { sku: 'SKU-MUG-CLASSIC', quantity: 2, unitPrice: 1299 },
        { sku: 'SKU-CAP-NAVY', quantity: 1, unitPrice: 2499 },
      ],
    });
    expect(seen.body).not.toHaveProperty('paymentToken');
  });

  it('never takes the customer or prices from the body', async () => {
    const before = await ordersOf(db, customer.userId);
    const forged = await place({ ...order(), customerId: other.userId });
    expect(forged.status).toBe(400);
    expect(forged.body.errors?.map((e) => e.field)).toEqual(['body']);
    const priced = await place(order([{ ...mug, unitPrice: 1 }]));
    expect(priced.status).toBe(400);
    expect(priced.body.errors?.map((e) => e.field)).toEqual(['items.0']);
    expect(await ordersOf(db, customer.userId)).toBe(before);
    expect(await ordersOf(db, other.userId)).toBe(0);
  });

  it.each([
    ['no items', order([]), ['items']],
    ['51 lines', order(Array.from({ length: 51 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 }))), ['items']],
    ['quantity 0', order([{ sku: 'SKU-MUG-CLASSIC', quantity: 0 }]), ['items.0.quantity']],
    ['quantity 1001', order([{ sku: 'SKU-MUG-CLASSIC', quantity: 1001 }]), ['items.0.quantity']],
    ['fractional quantity', order([{ sku: 'SKU-MUG-CLASSIC', quantity: 1.5 }]), ['items.0.quantity']],
    ['the same sku twice', order([mug, cap, mug]), ['items.2.sku']],
    ['a blank sku', order([{ sku: '', quantity: 1 }]), ['items.0.sku']],
    ['no payment method', { items: [mug] }, ['paymentMethod']],
    ['an empty payment token', order([mug], ''), ['paymentMethod.token']],
    ['not an object', [1, 2], ['body']],
  ])('rejects %s with 400 naming the fields and writes nothing', async (_what, body, fields) => {
    const before = await ordersOf(db, customer.userId);
    const answer = await place(body);
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.body.errors?.map((e) => e.field)).toEqual(fields);
    expect(await ordersOf(db, customer.userId)).toBe(before);
  });

  it('names every unknown sku and writes nothing', async () => {
    const before = await ordersOf(db, customer.userId);
    const answer = await place(order([{ sku: 'NOPE-1', quantity: 1 }, mug, { sku: 'NOPE-2', quantity: 3 }]));
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([
      { field: 'items.0.sku', message: 'unknown sku NOPE-1' },
      { field: 'items.2.sku', message: 'unknown sku NOPE-2' },
    ]);
    expect(await ordersOf(db, customer.userId)).toBe(before);
  });

  it('answers malformed JSON with 400, an oversized body with 413 and no token with 401', async () => {
    const malformed = await call<Problem>('order', 'POST', '/orders', {
      token: customer.token,
      rawBody: '{"items":[',
    });
    expect(malformed.status).toBe(400);
    const huge = await place(
      order(Array.from({ length: 50 }, () => ({ sku: 'x'.repeat(5000), quantity: 1 }))),
    );
    expect(huge.status).toBe(413);
    expect((await call('order', 'POST', '/orders', { body: order() })).status).toBe(401);
    expect((await place(order(), 'not-a-jwt')).status).toBe(401);
  });

  it('returns the same order for a retried request with the same Idempotency-Key', async () => {
    const key = randomUUID();
    const first = await place(order(), customer.token, { 'Idempotency-Key': key });
    const retry = await place(order(), customer.token, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    expect(retry.body.orderId).toBe(first.body.orderId);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
  });

  it('creates exactly one order for 10 concurrent requests with one Idempotency-Key', async () => {
    const key = randomUUID();
    const before = await ordersOf(db, customer.userId);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => place(order([cap]), customer.token, { 'Idempotency-Key': key })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 10 }, () => 202));
    expect(new Set(answers.map((a) => a.body.orderId)).size).toBe(1);
    expect(await ordersOf(db, customer.userId)).toBe(before + 1);
  });

  it('answers 409 for the same Idempotency-Key with a different body, and scopes keys per customer', async () => {
    const key = randomUUID();
    const first = await place(order([mug]), customer.token, { 'Idempotency-Key': key });
    expect(first.status).toBe(202);
    const changed = await place(order([{ ...mug, quantity: 3 }]), customer.token, { 'Idempotency-Key': key });
    expect(changed.status).toBe(409);
    const otherCustomer = await place(order([mug]), other.token, { 'Idempotency-Key': key });
    expect(otherCustomer.status).toBe(202);
    expect(otherCustomer.body.orderId).not.toBe(first.body.orderId);
  });

  it('a rejected request does not use up its Idempotency-Key', async () => {
    const key = randomUUID();
    const rejected = await place(order([{ sku: 'NOPE-9', quantity: 1 }]), customer.token, {
      'Idempotency-Key': key,
    });
    expect(rejected.status).toBe(400);
    const accepted = await place(order([mug]), customer.token, { 'Idempotency-Key': key });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('idempotent-replayed')).toBeNull();
  });

  it('rejects a malformed Idempotency-Key naming the header', async () => {
    const answer = await place(order(), customer.token, { 'Idempotency-Key': 'has space' });
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.map((e) => e.field)).toEqual(['Idempotency-Key']);
  });

  it('shows an order to its owner and admins; 404 alike to others and for an unknown id, 400 malformed id', async () => {
    const placed = await place(order([cap]));
    const path = `/orders/${placed.body.orderId}`;
    expect((await call('order', 'GET', path, { token: admin })).status).toBe(200);
    expect((await call('order', 'GET', path)).status).toBe(401);
    // Another customer's order and an unknown id answer alike: no existence oracle.
    const unknownId = randomUUID();
    const foreign = await call<Problem>('order', 'GET', path, { token: other.token });
    const unknown = await call<Problem>('order', 'GET', `/orders/${unknownId}`, { token: other.token });
    expect([foreign.status, unknown.status]).toEqual([404, 404]);
    expect(foreign.body.detail.replace(placed.body.orderId, '<id>')).toBe(
      unknown.body.detail.replace(unknownId, '<id>'),
    );
    const bad = await call<Problem>('order', 'GET', '/orders/42', { token: customer.token });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.map((e) => e.field)).toEqual(['id']);
  });

  it('lists only the caller own orders, newest first, with a cursor', async () => {
    const shopper = await newCustomer();
    const placed: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      placed.push(
        (await place(order([{ sku: 'SKU-STICKER-PACK', quantity: i + 1 }]), shopper.token)).body.orderId,
      );
    }
    await place(order([cap]), other.token);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await call<{ items: OrderView[]; nextCursor: string | null }>(
        'order',
        'GET',
        `/orders${query}`,
        {
          token: shopper.token,
        },
      );
      expect(page.status).toBe(200);
      expect(page.body.items.every((o) => o.customerId === shopper.userId)).toBe(true);
      seen.push(...page.body.items.map((o) => o.orderId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...placed].reverse());
    const bad = await call<Problem>('order', 'GET', '/orders?cursor=zzz&limit=500', { token: shopper.token });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.map((e) => e.field)).toEqual(['limit']);
  });

  it('lets only the owner or an admin ask to cancel; a finished order is 409 and stays as it was', async () => {
    // Seeded without order_created, so no saga races the test for this order.
    const orderId = await seedPendingOrder(db, customer.userId);
    const path = `/orders/${orderId}/cancel`;
    expect((await call('order', 'POST', path, { token: other.token })).status).toBe(404);
    expect(
      (await call('order', 'POST', `/orders/${randomUUID()}/cancel`, { token: customer.token })).status,
    ).toBe(404);
    await ordersOverState().markPaid(orderId);
    const late = await call<Problem>('order', 'POST', path, { token: customer.token });
    expect(late.status).toBe(409);
    expect(late.body.detail).toContain('PAID');
    const after = await call<OrderView>('order', 'GET', `/orders/${orderId}`, { token: customer.token });
    expect(after.body.status).toBe('PAID');
  });
});
