import { EntitySchema } from 'typeorm';
import type { Order } from '../domain/model';

/** A row of `orders` is the domain order as it stands. */
export type OrderRow = Order;

/**
 * Orders. The CHECKs keep a CANCELLED order's reason and the known statuses
 * honest; the partial UNIQUE index makes an Idempotency-Key create one order
 * per customer, even for concurrent retries.
 */
export const OrderEntity = new EntitySchema<OrderRow>({
  name: 'Order',
  tableName: 'orders',
  columns: {
    orderId: { name: 'order_id', type: 'uuid', primary: true },
    customerId: { name: 'customer_id', type: 'text' },
    status: { type: 'varchar', length: 16 },
    items: { type: 'jsonb' },
    total: { type: 'int' },
    currency: { type: 'varchar', length: 3 },
    paymentToken: { name: 'payment_token', type: 'text' },
    cancellationReason: { name: 'cancellation_reason', type: 'text', nullable: true },
    idempotencyKey: { name: 'idempotency_key', type: 'text', nullable: true },
    requestHash: { name: 'request_hash', type: 'text', nullable: true },
    deadline: { type: 'timestamptz' },
    createdAt: { name: 'created_at', type: 'timestamptz' },
    updatedAt: { name: 'updated_at', type: 'timestamptz' },
  },
  checks: [
    { name: 'orders_status_known', expression: `"status" IN ('PENDING', 'PAID', 'CANCELLED')` },
    {
      name: 'orders_cancelled_has_reason',
      expression: `("status" = 'CANCELLED') = ("cancellation_reason" IS NOT NULL)`,
    },
    { name: 'orders_total_nonnegative', expression: '"total" >= 0' },
  ],
  indices: [
    {
      name: 'orders_idempotency_key',
      columns: ['customerId', 'idempotencyKey'],
      unique: true,
      where: '"idempotency_key" IS NOT NULL',
    },
    { name: 'orders_by_customer', columns: ['customerId', 'createdAt', 'orderId'] },
  ],
});

export const orderEntities = [OrderEntity];
