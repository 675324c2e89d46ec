import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { OrderService } from '../src/domain/order-service';
import { connectOrderDb, ordersOver, outboxTopicsFor, seedPendingOrder } from './support/orders';

describe("the saga's commands to order, against the real database", () => {
  let db: DataSource;
  let orders: OrderService;
  const customerId = randomUUID();

  beforeAll(async () => {
    db = await connectOrderDb();
    orders = ordersOver(db);
  });

  afterAll(async () => {
    await db?.destroy();
  });

  it('PENDING → PAID once, however often the saga repeats it; cancelling it then is 409', async () => {
    const orderId = await seedPendingOrder(db, customerId);
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => orders.markPaid(orderId)));
    expect(answers.map((o) => o.status)).toEqual(['PAID', 'PAID', 'PAID', 'PAID', 'PAID']);
    await expect(orders.markCancelled(orderId, 'payment_declined')).rejects.toMatchObject({
      kind: 'CONFLICT',
    });
    expect(await outboxTopicsFor(db, orderId)).toEqual(['order_paid']);
  });

  it('PENDING → CANCELLED with its reason once; paying it then is 409', async () => {
    const orderId = await seedPendingOrder(db, customerId);
    const answers = await Promise.all(
      ['insufficient_stock', 'insufficient_stock', 'deadline_exceeded'].map((r) =>
        orders.markCancelled(orderId, r),
      ),
    );
    expect(new Set(answers.map((o) => o.cancellationReason)).size).toBe(1);
    await expect(orders.markPaid(orderId)).rejects.toMatchObject({ kind: 'CONFLICT' });
    const stored = await orders.get(orderId, { userId: customerId, admin: false });
    expect(stored.status).toBe('CANCELLED');
    expect(stored.cancellationReason).toBe(answers[0]?.cancellationReason);
    expect(await outboxTopicsFor(db, orderId)).toEqual(['order_cancelled']);
  });

  it('a PAID and a CANCELLED racing for one order: exactly one wins', async () => {
    for (let i = 0; i < 10; i += 1) {
      const orderId = await seedPendingOrder(db, customerId);
      const results = await Promise.allSettled([
        orders.markPaid(orderId),
        orders.markCancelled(orderId, 'race'),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await outboxTopicsFor(db, orderId)).toHaveLength(1);
    }
  });

  it('404s an order that does not exist', async () => {
    await expect(orders.markPaid(randomUUID())).rejects.toMatchObject({ kind: 'NOT_FOUND' });
  });

  it('the database refuses a CANCELLED order without a reason, or an unknown status', async () => {
    const orderId = await seedPendingOrder(db, customerId);
    await expect(
      db.query(`UPDATE orders SET status = 'CANCELLED' WHERE order_id = $1`, [orderId]),
    ).rejects.toThrow(/orders_cancelled_has_reason/);
    await expect(
      db.query(`UPDATE orders SET status = 'SHIPPED' WHERE order_id = $1`, [orderId]),
    ).rejects.toThrow(/orders_status_known/);
  });
});
