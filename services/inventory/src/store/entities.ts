import { EntitySchema } from 'typeorm';
import type { Product, ReservationStatus, Shortfall } from '../domain/model';

/** A row of `products` is the domain product as it stands. */
export type ProductRow = Product;

/** The stock counters can never go negative: the database refuses it, whatever the code does. */
export const ProductEntity = new EntitySchema<ProductRow>({
  name: 'Product',
  tableName: 'products',
  columns: {
    sku: { type: 'text', primary: true },
    name: { type: 'text' },
    price: { type: 'int' },
    currency: { type: 'varchar', length: 3 },
    available: { type: 'int' },
    reserved: { type: 'int', default: 0 },
    sold: { type: 'int', default: 0 },
    createdAt: { name: 'created_at', type: 'timestamptz' },
    updatedAt: { name: 'updated_at', type: 'timestamptz' },
  },
  checks: [
    { name: 'products_price_nonnegative', expression: '"price" >= 0' },
    { name: 'products_available_nonnegative', expression: '"available" >= 0' },
    { name: 'products_reserved_nonnegative', expression: '"reserved" >= 0' },
    { name: 'products_sold_nonnegative', expression: '"sold" >= 0' },
  ],
});

export interface ReservationRow {
  orderId: string;
  status: ReservationStatus | 'PENDING';
  reason: string | null;
  expiresAt: Date | null;
  shortfalls: Shortfall[] | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One row per order: the recorded outcome of its reserve / commit / release commands. */
export const ReservationEntity = new EntitySchema<ReservationRow>({
  name: 'Reservation',
  tableName: 'reservations',
  columns: {
    orderId: { name: 'order_id', type: 'uuid', primary: true },
    status: { type: 'varchar', length: 16 },
    reason: { type: 'text', nullable: true },
    expiresAt: { name: 'expires_at', type: 'timestamptz', nullable: true },
    shortfalls: { type: 'jsonb', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz' },
    updatedAt: { name: 'updated_at', type: 'timestamptz' },
  },
  checks: [
    {
      name: 'reservations_status_known',
      expression: `"status" IN ('PENDING', 'RESERVED', 'COMMITTED', 'RELEASED', 'FAILED', 'VOID')`,
    },
  ],
  indices: [{ name: 'reservations_held_by_expiry', columns: ['expiresAt'], where: `"status" = 'RESERVED'` }],
});

export interface ReservationLineRow {
  orderId: string;
  sku: string;
  quantity: number;
}

export const ReservationLineEntity = new EntitySchema<ReservationLineRow>({
  name: 'ReservationLine',
  tableName: 'reservation_lines',
  columns: {
    orderId: { name: 'order_id', type: 'uuid', primary: true },
    sku: { type: 'text', primary: true },
    quantity: { type: 'int' },
  },
  checks: [{ name: 'reservation_lines_quantity_positive', expression: '"quantity" > 0' }],
});

export const inventoryEntities = [ProductEntity, ReservationEntity, ReservationLineEntity];
