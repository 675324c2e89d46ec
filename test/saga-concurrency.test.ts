import { finalOrder, newCustomer, newProduct, order, paymentsOf, stockCounters } from './support/shop';

describe('order saga under concurrency', () => {
  it('sells exactly the stock to 50 concurrent orders and never oversells', async () => {
    const product = await newProduct(10, 700);
    const customers = await Promise.all(Array.from({ length: 5 }, () => newCustomer()));

    const placed = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const customer = customers[i % customers.length];
        if (!customer) throw new Error('no customer');
        return { customer, orderId: await order(customer, [{ sku: product.sku, quantity: 1 }]) };
      }),
    );
    // Watch the counters while the sagas run: never negative, always conserved.
    const seen: { available: number; reserved: number; sold: number }[] = [];
    let running = true;
    const watcher = (async () => {
      while (running) {
        seen.push(await stockCounters(product.sku));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    let finals: Awaited<ReturnType<typeof finalOrder>>[];
    try {
      finals = await Promise.all(
        placed.map(({ customer, orderId }) => finalOrder(customer, orderId, 120_000)),
      );
    } finally {
      running = false;
      await watcher;
    }

    const paid = finals.filter((o) => o.status === 'PAID');
    const cancelled = finals.filter((o) => o.status === 'CANCELLED');
    expect(paid).toHaveLength(10);
    expect(cancelled).toHaveLength(40);
    expect(new Set(cancelled.map((o) => o.cancellationReason))).toEqual(new Set(['insufficient_stock']));
    expect(await stockCounters(product.sku)).toEqual({ available: 0, reserved: 0, sold: 10 });
    for (const counters of seen) {
      expect(Math.min(counters.available, counters.reserved, counters.sold)).toBeGreaterThanOrEqual(0);
      expect(counters.available + counters.reserved + counters.sold).toBe(10);
    }
    const charges = await Promise.all(paid.map((o) => paymentsOf(o.orderId)));
    expect(charges.map((c) => c.filter((p) => p.status === 'SUCCEEDED').length)).toEqual(Array(10).fill(1));
  });
});
