import { randomUUID } from 'node:crypto';
import type { EventName } from '@ecom/shared';
import type { DataSource } from 'typeorm';
import { consistently, eventually } from '../../../stack/test/support/eventually';
import { startEventObserver } from '../../../stack/test/support/event-observer';
import type { TestApp } from '../../../stack/test/support/test-app';
import { connectInventoryDb, inventoryOver, uniqueSku } from './support';

const observed = [
  'inventory_reserved',
  'inventory_failed',
  'inventory_committed',
  'inventory_released',
] as const satisfies EventName[];

describe('inventory events leave through the outbox, exactly one per change', () => {
  const received: { topic: EventName; orderId: string }[] = [];
  let probe: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    db = await connectInventoryDb();
    probe = await startEventObserver('inventory-events-probe', observed, (topic, event) => {
      received.push({ topic, orderId: event.orderId });
    });
  });

  afterAll(async () => {
    await Promise.all([probe?.stop(), db?.destroy()]);
  });

  const topicsOf = (orderId: string) => async () =>
    received
      .filter((e) => e.orderId === orderId)
      .map((e) => e.topic)
      .sort();

  it('duplicated reserve, commit and release commands each publish one event', async () => {
    const inventory = inventoryOver(db);
    const sku = uniqueSku('EV');
    await inventory.createProduct({ sku, name: 'Event test', price: 100, currency: 'USD', stock: 3 });
    const sold = randomUUID();
    const released = randomUUID();
    const failed = randomUUID();
    for (let i = 0; i < 3; i += 1) {
      await inventory.reserve(sold, [{ sku, quantity: 1 }], 300);
      await inventory.reserve(released, [{ sku, quantity: 1 }], 300);
      await inventory.reserve(failed, [{ sku, quantity: 5 }], 300);
    }
    await Promise.all([1, 2, 3].map(() => inventory.commit(sold)));
    await Promise.all([1, 2, 3].map(() => inventory.release(released, 'payment_declined')));

    const expected: [string, EventName[]][] = [
      [sold, ['inventory_committed', 'inventory_reserved']],
      [released, ['inventory_released', 'inventory_reserved']],
      [failed, ['inventory_failed']],
    ];
    for (const [orderId, topics] of expected) {
      await eventually(topicsOf(orderId), (seen) => seen.length >= topics.length, {
        what: `events of ${orderId}`,
        timeoutMs: 60_000,
      });
    }
    await consistently(
      async () => Promise.all(expected.map(([orderId]) => topicsOf(orderId)())),
      (seen) => seen.every((topics, i) => JSON.stringify(topics) === JSON.stringify(expected[i]?.[1])),
      { durationMs: 3_000, what: 'exactly one event per change' },
    );
  });
});
