import { randomUUID } from 'node:crypto';
import { daprStateTables } from '@ecom/shared';
import { Client } from 'pg';
import { loadStackSettings } from '../../../../stack/src/stack';
import { stateStoreOf } from '../../../../stack/test/support/publish-as';
import { OrderService } from '../../src/domain/order-service';
import type { Order } from '../../src/domain/model';
import { StatusWaiters } from '../../src/domain/status-waiters';
import { DaprOrderStore, keyOf, toDocument } from '../../src/store/dapr-order-store';
import { notifyStatusChange } from '../../src/store/pg-status-signal';

/** The order service's own database, where its Dapr state stores keep orders (one table). */
export async function connectOrderDb(): Promise<Client> {
  const s = loadStackSettings();
  const client = new Client({
    connectionString: `postgres://${s.ECOM_PG_USER}@127.0.0.1:${s.ECOM_PORT_POSTGRES}/order`,
  });
  await client.connect();
  return client;
}

const { table } = daprStateTables('order');

/**
 * A PENDING order written straight into the state table (as Dapr stores it: key prefixed with the
 * app id), without order_created, so no saga runs it: the test alone drives its transitions.
 */
export async function seedPendingOrder(db: Client, customerId: string): Promise<string> {
  const orderId = randomUUID();
  const now = new Date();
  const order: Order = {
    orderId,
    customerId,
    status: 'PENDING',
    items: [{ sku: 'SKU-MUG-CLASSIC', name: 'Classic mug', quantity: 1, unitPrice: 1299 }],
    total: 1299,
    currency: 'USD',
    paymentToken: 'tok_visa',
    cancellationReason: null,
    idempotencyKey: null,
    requestHash: null,
    deadline: new Date(now.getTime() + 3_600_000),
    createdAt: now,
    updatedAt: now,
  };
  // Dapr's state.postgresql keys rows as `<app-id>||<key>`.
  await db.query(`INSERT INTO ${table} (key, value, isbinary) VALUES ($1, $2::jsonb, false)`, [
    `order||${keyOf(orderId)}`,
    JSON.stringify(toDocument(order)),
  ]);
  return orderId;
}

/** How many orders the customer has in the state table. */
export async function ordersOf(db: Client, customerId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table} WHERE value->>'customerId' = $1`,
    [customerId],
  );
  return rows[0]?.n ?? 0;
}

/**
 * The order service's use cases over its real store, through order's own sidecar, for driving the
 * saga's internal commands (paid / cancelled) without a saga. Pricing and the saga are not
 * reachable from here. With `db`, each status move is announced on order's database as a replica
 * of the service announces it (this process then plays another replica).
 */
export function ordersOverState(db?: Client): OrderService {
  const waiters = new StatusWaiters();
  const unavailable = () => Promise.reject(new Error('not available in this test'));
  return new OrderService({
    store: new DaprOrderStore(stateStoreOf('order')),
    prices: { quote: unavailable },
    saga: { requestCancel: unavailable },
    clock: { now: () => new Date() },
    ids: { newId: () => randomUUID() },
    statusChanges: {
      announce: (orderId) =>
        db ? notifyStatusChange((sql, parameters) => db.query(sql, parameters), orderId) : Promise.resolve(),
      watch: (orderId) => waiters.watch(orderId),
    },
    sagaDeadlineMs: 60_000,
  });
}
