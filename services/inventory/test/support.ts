import { randomUUID } from 'node:crypto';
import { connectPostgres } from '@ecom/shared';
import type { DataSource } from 'typeorm';
import { loadStackSettings } from '../../../stack/src/stack';
import { InventoryService } from '../src/domain/inventory-service';
import type { Clock } from '../src/domain/ports';
import { inventoryEntities } from '../src/store/entities';
import { PgProductStore } from '../src/store/pg-product-store';
import { PgReservationStore } from '../src/store/pg-reservation-store';

/** The inventory's own database, as the running service uses it (its tables exist once it started). */
export async function connectInventoryDb(): Promise<DataSource> {
  const s = loadStackSettings();
  return connectPostgres({
    url: `postgres://${s.ECOM_PG_USER}@127.0.0.1:${s.ECOM_PORT_POSTGRES}/inventory`,
    entities: inventoryEntities,
    poolSize: 60,
  });
}

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(private current = new Date()) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export function inventoryOver(
  dataSource: DataSource,
  clock: Clock = { now: () => new Date() },
): InventoryService {
  return new InventoryService({
    products: new PgProductStore(dataSource),
    reservations: new PgReservationStore(dataSource),
    clock,
  });
}

/** A sku no other test uses. */
export function uniqueSku(prefix = 'T'): string {
  return `${prefix}-${randomUUID().slice(0, 13)}`;
}

export interface StockRow {
  available: number;
  reserved: number;
  sold: number;
}

export async function stockOf(dataSource: DataSource, sku: string): Promise<StockRow> {
  const rows: StockRow[] = await dataSource.query(
    'SELECT available, reserved, sold FROM products WHERE sku = $1',
    [sku],
  );
  const [row] = rows;
  if (!row) throw new Error(`no product ${sku}`);
  return row;
}

/** Topics of the outbox rows recorded for an order, sorted by name. */
export async function outboxTopicsFor(dataSource: DataSource, orderId: string): Promise<string[]> {
  const rows: { topic: string }[] = await dataSource.query(
    'SELECT topic FROM outbox WHERE aggregate_id = $1 ORDER BY topic',
    [orderId],
  );
  return rows.map((r) => r.topic);
}
