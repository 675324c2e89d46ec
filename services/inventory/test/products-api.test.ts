import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { adminToken, call, newCustomer, type TestCustomer } from '../../order/test/support/tokens';
import { connectInventoryDb, inventoryOver, stockOf, uniqueSku } from './support';

interface ProductView {
  sku: string;
  name: string;
  price: number;
  currency: string;
  available: number;
  reserved?: number;
  sold?: number;
}
interface Problem {
  status: number;
  errors?: { field: string; message: string }[];
}

describe('inventory HTTP API through Dapr', () => {
  let admin: string;
  let customer: TestCustomer;
  let db: DataSource;

  beforeAll(async () => {
    [admin, customer, db] = await Promise.all([adminToken(), newCustomer(), connectInventoryDb()]);
  });

  afterAll(async () => {
    await db?.destroy();
  });

  async function createProduct(stock = 10): Promise<ProductView> {
    const sku = uniqueSku('API');
    const created = await call<ProductView>('inventory', 'POST', '/products', {
      token: admin,
      body: { sku, name: 'API test product', price: 1234, currency: 'EUR', stock },
    });
    expect(created.status).toBe(201);
    return created.body;
  }

  it('lists the catalogue publicly, page by page, without repeating a product', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await call<{ items: ProductView[]; nextCursor: string | null }>(
        'inventory',
        'GET',
        `/products${query}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((p) => p.sku));
      cursor = page.body.nextCursor;
      // Pages until both seeded products were seen: earlier tests' products may sort before them.
    } while (
      cursor &&
      !['SKU-CAP-NAVY', 'SKU-MUG-CLASSIC'].every((sku) => seen.includes(sku)) &&
      seen.length < 5_000
    );
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(['SKU-MUG-CLASSIC', 'SKU-CAP-NAVY']));
  });

  it('shows a product by sku and 404s an unknown one', async () => {
    const mug = await call<ProductView>('inventory', 'GET', '/products/SKU-MUG-CLASSIC');
    expect(mug.status).toBe(200);
    expect(mug.body).toMatchObject({ sku: 'SKU-MUG-CLASSIC', price: 1299, currency: 'USD' });
    expect(mug.body).not.toHaveProperty('reserved');
    expect((await call('inventory', 'GET', `/products/NOPE-${randomUUID()}`)).status).toBe(404);
  });

  it('rejects bad listing parameters naming them', async () => {
    const bad = await call<Problem>('inventory', 'GET', '/products?limit=0&cursor=%25%25');
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.map((e) => e.field)).toContain('limit');
    const cursor = await call<Problem>('inventory', 'GET', '/products?cursor=!!');
    expect(cursor.status).toBe(400);
    expect(cursor.body.errors?.map((e) => e.field)).toEqual(['cursor']);
  });

  it('lets only an admin create products; duplicates are 409', async () => {
    const body = { sku: uniqueSku('API'), name: 'x', price: 1, currency: 'USD', stock: 1 };
    expect((await call('inventory', 'POST', '/products', { body })).status).toBe(401);
    expect((await call('inventory', 'POST', '/products', { body, token: customer.token })).status).toBe(403);
    expect((await call('inventory', 'POST', '/products', { body, token: admin })).status).toBe(201);
    expect((await call('inventory', 'POST', '/products', { body, token: admin })).status).toBe(409);
  });

  it('names every invalid field of a new product and writes nothing', async () => {
    const sku = uniqueSku('API');
    const bad = await call<Problem>('inventory', 'POST', '/products', {
      token: admin,
      body: { sku, name: '', price: -1, currency: 'usd', stock: 1.5, extra: true },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    expect(bad.body.errors?.map((e) => e.field).sort()).toEqual([
      'body',
      'currency',
      'name',
      'price',
      'stock',
    ]);
    expect((await call('inventory', 'GET', `/products/${sku}`)).status).toBe(404);
  });

  it('answers malformed JSON with 400 and an oversized body with 413', async () => {
    const malformed = await call<Problem>('inventory', 'POST', '/products', {
      token: admin,
      rawBody: '{"sku":',
    });
    expect(malformed.status).toBe(400);
    const huge = await call('inventory', 'POST', '/products', {
      token: admin,
      body: { sku: uniqueSku(), name: 'x'.repeat(200_000), price: 1, currency: 'USD', stock: 1 },
    });
    expect(huge.status).toBe(413);
  });

  it('lets an admin rename, reprice and adjust stock; never below zero', async () => {
    const product = await createProduct(10);
    const path = `/products/${product.sku}`;
    const changed = await call<ProductView>('inventory', 'PATCH', path, {
      token: admin,
      body: { name: 'Renamed', price: 999, stockDelta: -4 },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ name: 'Renamed', price: 999, available: 6, reserved: 0, sold: 0 });
    const negative = await call('inventory', 'PATCH', path, { token: admin, body: { stockDelta: -7 } });
    expect(negative.status).toBe(409);
    expect(await stockOf(db, product.sku)).toEqual({ available: 6, reserved: 0, sold: 0 });
    const set = await call<ProductView>('inventory', 'PATCH', path, { token: admin, body: { stock: 50 } });
    expect(set.body.available).toBe(50);
    // Past the largest count the column holds: refused as a conflict naming the field, never a 500.
    expect(
      (await call('inventory', 'PATCH', path, { token: admin, body: { stock: 1_000_000_000 } })).status,
    ).toBe(200);
    expect(
      (await call('inventory', 'PATCH', path, { token: admin, body: { stockDelta: 1_000_000_000 } })).status,
    ).toBe(200);
    const overflow = await call<{ errors?: { field: string }[] }>('inventory', 'PATCH', path, {
      token: admin,
      body: { stockDelta: 1_000_000_000 },
    });
    expect(overflow.status).toBe(409);
    expect(overflow.body.errors?.map((e) => e.field)).toEqual(['stockDelta']);
    expect(await stockOf(db, product.sku)).toEqual({ available: 2_000_000_000, reserved: 0, sold: 0 });
    await call('inventory', 'PATCH', path, { token: admin, body: { stock: 50 } });
    expect((await call('inventory', 'PATCH', path, { token: admin, body: {} })).status).toBe(400);
    expect(
      (await call('inventory', 'PATCH', path, { token: admin, body: { stock: 1, stockDelta: 1 } })).status,
    ).toBe(400);
    expect(
      (await call('inventory', 'PATCH', path, { token: customer.token, body: { price: 1 } })).status,
    ).toBe(403);
    expect(
      (await call('inventory', 'PATCH', `/products/${uniqueSku()}`, { token: admin, body: { price: 1 } }))
        .status,
    ).toBe(404);
  });

  it('shows a reservation to an admin only', async () => {
    const product = await createProduct(5);
    const orderId = randomUUID();
    await inventoryOver(db).reserve(orderId, [{ sku: product.sku, quantity: 2 }], 300);
    const seen = await call<{ status: string; items: unknown[] }>(
      'inventory',
      'GET',
      `/reservations/${orderId}`,
      {
        token: admin,
      },
    );
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ status: 'RESERVED', items: [{ sku: product.sku, quantity: 2 }] });
    expect(
      (await call('inventory', 'GET', `/reservations/${orderId}`, { token: customer.token })).status,
    ).toBe(403);
    expect((await call('inventory', 'GET', `/reservations/${randomUUID()}`, { token: admin })).status).toBe(
      404,
    );
    expect((await call('inventory', 'GET', '/reservations/not-a-uuid', { token: admin })).status).toBe(400);
  });

  it('refuses internal commands at the edge: a client is no service, and nothing is held', async () => {
    const product = await createProduct(5);
    const orderId = randomUUID();
    const reserve = await call('inventory', 'POST', '/internal/reservations', {
      body: { orderId, items: [{ sku: product.sku, quantity: 1 }], ttlSeconds: 60 },
    });
    expect(reserve.status).toBe(404);
    expect(await stockOf(db, product.sku)).toEqual({ available: 5, reserved: 0, sold: 0 });
  });
});
