import { randomUUID } from 'node:crypto';
import { connectPostgres } from '@ecom/shared';
import type { DataSource } from 'typeorm';
import { loadStackSettings } from '../../../../stack/src/stack';
import { OrderService } from '../../src/domain/order-service';
import { orderEntities } from '../../src/store/entities';
import { PgOrderStore } from '../../src/store/pg-order-store';

/** The order service's own database (its tables exist once the service started). */
export async function connectOrderDb(): Promise<DataSource> {
  const s = loadStackSettings();
  return connectPostgres({
    url: `postgres://${s.ECOM_PG_USER}@127.0.0.1:${s.ECOM_PORT_POSTGRES}/order`,
    entities: orderEntities,
    synchronize: false,
    poolSize: 10,
  });
}

/**
 * A PENDING order written straight into the table, without order_created, so
 * no saga runs it: the test alone drives its transitions.
 */
export async function seedPendingOrder(db: DataSource, customerId: string): Promise<string> {
  const orderId = randomUUID();
  await db.query(
    `INSERT INTO orders (order_id, customer_id, status, items, total, currency, payment_token, deadline, created_at,
       updated_at)
     VALUES ($1, $2, 'PENDING', $3::jsonb, 1299, 'USD', 'tok_visa', now() + interval '1 hour', now(), now())`,
    [
      orderId,
      customerId,
      JSON.stringify([{ sku: 'SKU-MUG-CLASSIC', name: 'Classic mug', quantity: 1, unitPrice: 1299 }]),
    ],
  );
  return orderId;
}

export async function ordersOf(db: DataSource, customerId: string): Promise<number> {
  const [row] = await db.query<
    {
      n: number;
    }[]
  >('SELECT count(*)::int AS n FROM orders WHERE customer_id = $1', [customerId]);
  return row?.n ?? 0;
}

export async function outboxTopicsFor(db: DataSource, orderId: string): Promise<string[]> {
  const rows: { topic: string }[] = await db.query(
    'SELECT topic FROM outbox WHERE aggregate_id = $1 ORDER BY topic',
    [orderId],
  );
  return rows.map((r) => r.topic);
}

/**
 * The order service's use cases over its real store, for driving the saga's
 * internal commands (paid / cancelled) without a saga. Pricing and the saga
 * are not reachable from here.
 */
export function ordersOver(db: DataSource): OrderService {
  const unavailable = () => Promise.reject(new Error('not available in this test'));
  return new OrderService({
    store: new PgOrderStore(db),
    prices: { quote: unavailable },
    saga: { requestCancel: unavailable },
    clock: { now: () => new Date() },
    ids: { newId: () => randomUUID() },
    sagaDeadlineMs: 60_000,
  });
}
