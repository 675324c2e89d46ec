import { randomUUID } from 'node:crypto';
import type { EventName, EventPayload } from '@ecom/shared';
import type { Client } from 'pg';
import { serviceSidecarSpec } from '../../../stack/src/services';
import { loadStackSettings, renderLocalDapr } from '../../../stack/src/stack';
import { killProcess, startProcess } from '../../../stack/src/supervisor';
import { startEventObserver } from '../../../stack/test/support/event-observer';
import { exactly } from '../../../stack/test/support/eventually';
import type { TestApp } from '../../../stack/test/support/test-app';
import type { OrderService } from '../src/domain/order-service';
import { connectOrderDb, ordersOverState, seedPendingOrder } from './support/orders';

const observed = ['order_paid', 'order_cancelled'] as const satisfies EventName[];
type Observed = (typeof observed)[number];

/**
 * The saga's commands to order against order's real Dapr state store: every status move is one
 * state transaction whose event Dapr's transactional outbox publishes (through Kafka, to a real
 * subscriber), exactly once per committed move and never for one that lost its ETag race.
 */
describe("order's status moves through Dapr's state store and outbox", () => {
  const received: { topic: Observed; event: EventPayload<Observed> }[] = [];
  let db: Client;
  let orders: OrderService;
  let probe: TestApp;
  const customerId = randomUUID();

  beforeAll(async () => {
    db = await connectOrderDb();
    orders = ordersOverState();
    probe = await startEventObserver('order-outbox-probe', observed, (topic, event) => {
      received.push({ topic, event });
    });
  });

  afterAll(async () => {
    await Promise.all([probe?.stop(), db?.end()]);
  });

  const eventsOf = (orderId: string) => async () => received.filter((r) => r.event.orderId === orderId);

  /**
   * The order's one event, once no second one followed for a while: a duplicate would be queued on its
   * partition behind the rolled-back writes of the race, which daprd settles in about 0.6 s each.
   */
  const exactlyOneEvent = (orderId: string) =>
    exactly(eventsOf(orderId), 1, { quietMs: 5_000, what: `event(s) of order ${orderId}` });

  it('PENDING → PAID once, however often the saga repeats it; one order_paid with the payload intact', async () => {
    const orderId = await seedPendingOrder(db, customerId);
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => orders.markPaid(orderId)));
    expect(answers.map((o) => o.status)).toEqual(['PAID', 'PAID', 'PAID', 'PAID', 'PAID']);
    await expect(orders.markCancelled(orderId, 'payment_declined')).rejects.toMatchObject({
      kind: 'CONFLICT',
    });
    const [only] = await exactlyOneEvent(orderId);
    expect(only?.topic).toBe('order_paid');
    expect(only?.event).toMatchObject({
      orderId,
      customerId,
      total: 1299,
      currency: 'USD',
      schemaVersion: 1,
    });
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
    const [only] = await exactlyOneEvent(orderId);
    expect(only).toMatchObject({ topic: 'order_cancelled', event: { reason: stored.cancellationReason } });
  });

  it('a PAID and a CANCELLED racing for one order: one wins, the loser’s aborted transaction publishes nothing', async () => {
    // Seeded one after another: the seeds share one pg Client, which runs one query at a time.
    const seeded: string[] = [];
    for (let i = 0; i < 5; i += 1) seeded.push(await seedPendingOrder(db, customerId));
    const raced = await Promise.all(
      seeded.map(async (orderId) => {
        const results = await Promise.allSettled([
          orders.markPaid(orderId),
          orders.markCancelled(orderId, 'race'),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        return orderId;
      }),
    );
    await Promise.all(
      raced.map(async (orderId) => {
        const stored = await orders.get(orderId, { userId: customerId, admin: true });
        const [only] = await exactlyOneEvent(orderId);
        expect(only?.topic).toBe(stored.status === 'PAID' ? 'order_paid' : 'order_cancelled');
      }),
    );
  });

  it("delivers a committed move's event once when order's sidecar is killed right after the commit", async () => {
    const settings = loadStackSettings();
    const orderId = await seedPendingOrder(db, customerId);
    await orders.markPaid(orderId);
    // daprd holds the message on its internal topic for 1 s before it forwards it: kill it inside that window.
    killProcess('order-dapr');
    expect(await eventsOf(orderId)()).toEqual([]);
    try {
      await startProcess(serviceSidecarSpec(settings, 'order', renderLocalDapr(settings)));
      const [only] = await exactlyOneEvent(orderId);
      expect(only?.topic).toBe('order_paid');
    } finally {
      await startProcess(serviceSidecarSpec(settings, 'order', renderLocalDapr(settings)));
    }
  });

  it('404s an order that does not exist', async () => {
    await expect(orders.markPaid(randomUUID())).rejects.toMatchObject({ kind: 'NOT_FOUND' });
  });
});
