import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { eventually } from '../../../stack/test/support/eventually';
import { call } from '../../../stack/test/support/shop-client';
import type { InventoryService } from '../src/domain/inventory-service';
import {
  connectInventoryDb,
  inventoryOver,
  ManualClock,
  outboxTopicsFor,
  stockOf,
  uniqueSku,
} from './support';

describe('inventory reservations against the real database', () => {
  let db: DataSource;
  let inventory: InventoryService;

  beforeAll(async () => {
    db = await connectInventoryDb();
    inventory = inventoryOver(db);
  });

  afterAll(async () => {
    await db?.destroy();
  });

  async function product(stock: number, price = 500): Promise<string> {
    const sku = uniqueSku();
    await inventory.createProduct({ sku, name: `Test ${sku}`, price, currency: 'USD', stock });
    return sku;
  }

  it('50 concurrent reservations of 1 against stock 10 reserve exactly 10 and never go negative', async () => {
    const sku = await product(10);
    const orderIds = Array.from({ length: 50 }, () => randomUUID());
    const outcomes = await Promise.all(
      orderIds.map((orderId) => inventory.reserve(orderId, [{ sku, quantity: 1 }], 300)),
    );
    expect(outcomes.filter((o) => o.outcome === 'reserved')).toHaveLength(10);
    expect(outcomes.filter((o) => o.outcome === 'failed')).toHaveLength(40);
    expect(await stockOf(db, sku)).toEqual({ available: 0, reserved: 10, sold: 0 });
    const [events] = await db.query<{ reserved: number; failed: number }[]>(
      `SELECT count(*) FILTER (WHERE topic = 'inventory_reserved')::int AS reserved,
              count(*) FILTER (WHERE topic = 'inventory_failed')::int AS failed
       FROM outbox WHERE aggregate_id = ANY($1::text[])`,
      [orderIds],
    );
    expect(events).toEqual({ reserved: 10, failed: 40 });
  });

  it('keeps available + reserved + sold conserved through concurrent reserve, commit and release', async () => {
    const sku = await product(20);
    const orderIds = Array.from({ length: 30 }, () => randomUUID());
    const reserved = await Promise.all(
      orderIds.map((id) => inventory.reserve(id, [{ sku, quantity: 1 }], 300)),
    );
    const committable = orderIds.filter((_, i) => i % 2 === 0 && reserved[i]?.outcome === 'reserved').length;
    expect(reserved.filter((o) => o.outcome === 'reserved')).toHaveLength(20);
    await Promise.all(
      orderIds.map((id, i) =>
        i % 2 === 0 ? inventory.commit(id).catch(() => undefined) : inventory.release(id, 'test'),
      ),
    );
    const stock = await stockOf(db, sku);
    expect(stock.available + stock.reserved + stock.sold).toBe(20);
    expect(stock.reserved).toBe(0);
    expect(stock.sold).toBe(committable);
    expect(stock.available).toBe(20 - committable);
  });

  it('is all-or-nothing across lines and names every sku that fell short', async () => {
    const plenty = await product(100);
    const scarce = await product(1);
    const orderId = randomUUID();
    const outcome = await inventory.reserve(
      orderId,
      [
        { sku: plenty, quantity: 5 },
        { sku: scarce, quantity: 2 },
        { sku: 'NO-SUCH-SKU', quantity: 1 },
      ],
      300,
    );
    expect(outcome).toEqual({
      outcome: 'failed',
      reason: 'insufficient_stock',
      shortfalls: expect.arrayContaining([
        { sku: scarce, requested: 2, available: 1 },
        { sku: 'NO-SUCH-SKU', requested: 1, available: 0 },
      ]) as unknown,
    });
    expect(await stockOf(db, plenty)).toEqual({ available: 100, reserved: 0, sold: 0 });
    expect(await stockOf(db, scarce)).toEqual({ available: 1, reserved: 0, sold: 0 });
    expect(await outboxTopicsFor(db, orderId)).toEqual(['inventory_failed']);
  });

  it('merges lines of one sku and locks in sku order, so crossing orders never deadlock', async () => {
    const a = await product(1000);
    const b = await product(1000);
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        inventory.reserve(
          randomUUID(),
          i % 2 === 0
            ? [
                { sku: a, quantity: 1 },
                { sku: b, quantity: 1 },
              ]
            : [
                { sku: b, quantity: 1 },
                { sku: a, quantity: 1 },
                { sku: b, quantity: 1 },
              ],
          300,
        ),
      ),
    );
    expect(outcomes.every((o) => o.outcome === 'reserved')).toBe(true);
    expect(await stockOf(db, a)).toEqual({ available: 960, reserved: 40, sold: 0 });
    expect(await stockOf(db, b)).toEqual({ available: 940, reserved: 60, sold: 0 });
  });

  it('a duplicated reserve command, even concurrent, has one effect and answers the recorded outcome', async () => {
    const sku = await product(10);
    const orderId = randomUUID();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => inventory.reserve(orderId, [{ sku, quantity: 3 }], 300)),
    );
    const first = outcomes[0];
    expect(first?.outcome).toBe('reserved');
    expect(new Set(outcomes.map((o) => JSON.stringify(o))).size).toBe(1);
    expect(await stockOf(db, sku)).toEqual({ available: 7, reserved: 3, sold: 0 });
    expect(await outboxTopicsFor(db, orderId)).toEqual(['inventory_reserved']);
  });

  it('a reserved answer names the lines it holds; a repeat answers the recorded lines, not the asked ones', async () => {
    const a = await product(10);
    const b = await product(10);
    const orderId = randomUUID();
    const first = await inventory.reserve(
      orderId,
      [
        { sku: b, quantity: 1 },
        { sku: a, quantity: 2 },
        { sku: b, quantity: 1 },
      ],
      300,
    );
    const held = [
      { sku: a, quantity: 2 },
      { sku: b, quantity: 2 },
    ].sort((x, y) => (x.sku < y.sku ? -1 : 1));
    expect(first).toEqual({ outcome: 'reserved', expiresAt: expect.any(String) as unknown, items: held });
    // Whoever reserved first under this order id fixed the lines: a repeat asking for others learns them.
    const repeat = await inventory.reserve(orderId, [{ sku: a, quantity: 9 }], 300);
    expect(repeat).toEqual(first);
    expect(await stockOf(db, a)).toEqual({ available: 8, reserved: 2, sold: 0 });
    // Still so once committed.
    await inventory.commit(orderId);
    await expect(inventory.reserve(orderId, [{ sku: a, quantity: 1 }], 300)).resolves.toEqual(first);
  });

  it("the saga's reserve command answers the lines through the sidecar, also on a repeat", async () => {
    const sku = await product(5);
    const orderId = randomUUID();
    const reserve = (quantity: number) =>
      call('inventory', 'POST', '/internal/reservations', {
        via: 'saga',
        body: { orderId, items: [{ sku, quantity, unitPrice: 500 }], ttlSeconds: 60 },
      });
    const first = await reserve(3);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ outcome: 'reserved', items: [{ sku, quantity: 3 }] });
    const repeat = await reserve(1);
    expect(repeat.body).toEqual(first.body);
    await inventory.release(orderId, 'test over');
  });

  it('commit sells the stock once; repeated commits and a late release change nothing', async () => {
    const sku = await product(5);
    const orderId = randomUUID();
    await inventory.reserve(orderId, [{ sku, quantity: 2 }], 300);
    await expect(inventory.commit(orderId)).resolves.toEqual({ outcome: 'committed' });
    await expect(inventory.commit(orderId)).resolves.toEqual({ outcome: 'committed' });
    await expect(inventory.release(orderId, 'late')).resolves.toEqual({ outcome: 'already_committed' });
    expect(await stockOf(db, sku)).toEqual({ available: 3, reserved: 0, sold: 2 });
    expect(await outboxTopicsFor(db, orderId)).toEqual(['inventory_committed', 'inventory_reserved']);
  });

  it('release gives the stock back once; commit after release is a conflict', async () => {
    const sku = await product(5);
    const orderId = randomUUID();
    await inventory.reserve(orderId, [{ sku, quantity: 4 }], 300);
    const releases = await Promise.all([1, 2, 3].map(() => inventory.release(orderId, 'payment_declined')));
    expect(releases.map((r) => r.outcome)).toEqual(['released', 'released', 'released']);
    expect(await stockOf(db, sku)).toEqual({ available: 5, reserved: 0, sold: 0 });
    await expect(inventory.commit(orderId)).rejects.toMatchObject({ kind: 'CONFLICT' });
    expect(await outboxTopicsFor(db, orderId)).toEqual(['inventory_released', 'inventory_reserved']);
  });

  it('a release before the reserve leaves a tombstone: the late reserve holds nothing', async () => {
    const sku = await product(5);
    const orderId = randomUUID();
    await expect(inventory.release(orderId, 'deadline_exceeded')).resolves.toEqual({
      outcome: 'not_reserved',
    });
    await expect(inventory.reserve(orderId, [{ sku, quantity: 1 }], 300)).resolves.toEqual({
      outcome: 'failed',
      reason: 'released',
      shortfalls: [],
    });
    expect(await stockOf(db, sku)).toEqual({ available: 5, reserved: 0, sold: 0 });
    expect(await outboxTopicsFor(db, orderId)).toEqual([]);
    await expect(inventory.commit(orderId)).rejects.toMatchObject({ kind: 'CONFLICT' });
  });

  it('expired reservations are released by the sweeper and can no longer be committed', async () => {
    const clock = new ManualClock();
    const timed = inventoryOver(db, clock);
    const sku = await product(3);
    const orderId = randomUUID();
    await timed.reserve(orderId, [{ sku, quantity: 2 }], 60);
    clock.advance(61_000);
    await expect(timed.commit(orderId)).rejects.toMatchObject({ kind: 'CONFLICT' });
    // The running service's own sweeper may get there first; either way it is released exactly once.
    await timed.releaseExpired(1000);
    expect(await stockOf(db, sku)).toEqual({ available: 3, reserved: 0, sold: 0 });
    const reservation = await timed.getReservation(orderId);
    expect(reservation).toMatchObject({ status: 'RELEASED', reason: 'expired' });
    expect(await outboxTopicsFor(db, orderId)).toEqual(['inventory_released', 'inventory_reserved']);
  });

  it('the running service releases a reservation on its own once it expires', async () => {
    const sku = await product(2);
    const orderId = randomUUID();
    await inventory.reserve(orderId, [{ sku, quantity: 2 }], 1);
    expect(await stockOf(db, sku)).toEqual({ available: 0, reserved: 2, sold: 0 });
    await eventually(
      () => stockOf(db, sku),
      (stock) => stock.available === 2 && stock.reserved === 0,
      { what: 'the sweeper releasing the expired reservation', timeoutMs: 15_000 },
    );
    await expect(inventory.getReservation(orderId)).resolves.toMatchObject({
      status: 'RELEASED',
      reason: 'expired',
    });
  });

  it('the database refuses negative stock even if code tried to write it', async () => {
    const sku = await product(1);
    await expect(
      db.query('UPDATE products SET available = available - 2 WHERE sku = $1', [sku]),
    ).rejects.toThrow(/products_available_nonnegative/);
    expect(await stockOf(db, sku)).toEqual({ available: 1, reserved: 0, sold: 0 });
  });
});
