import { randomUUID } from 'node:crypto';
import { connectPostgres } from '@ecom/shared';
import type { DataSource } from 'typeorm';
import { loadStackSettings } from '../../../stack/src/stack';
import { PaymentService } from '../src/domain/payment-service';
import { TestTokenProvider } from '../src/provider/test-token-provider';
import { paymentEntities } from '../src/store/entities';
import { PgPaymentStore } from '../src/store/pg-payment-store';

/** The payment service's own database (its tables exist once the service started). */
export async function connectPaymentDb(): Promise<DataSource> {
  const s = loadStackSettings();
  return connectPostgres({
    url: `postgres://${s.ECOM_PG_USER}@127.0.0.1:${s.ECOM_PORT_POSTGRES}/payment`,
    entities: paymentEntities,
    synchronize: false,
    poolSize: 30,
  });
}

export function paymentsOver(db: DataSource): PaymentService {
  const ids = { newId: () => randomUUID() };
  return new PaymentService({
    store: new PgPaymentStore(db),
    provider: new TestTokenProvider(ids),
    clock: { now: () => new Date() },
    ids,
  });
}

export async function outboxTopicsFor(db: DataSource, orderId: string): Promise<string[]> {
  const rows: { topic: string }[] = await db.query(
    'SELECT topic FROM outbox WHERE aggregate_id = $1 ORDER BY topic',
    [orderId],
  );
  return rows.map((r) => r.topic);
}
