import { EntitySchema } from 'typeorm';
import type { Payment } from '../domain/model';

/** A row of `payments`: the domain payment without its refund (a table of its own), plus when it last changed. */
export type PaymentRow = Omit<Payment, 'refund'> & { updatedAt: Date };

/**
 * Charge attempts. The partial UNIQUE index is the guarantee of "at most one
 * successful charge per order": the database refuses a second one, whatever
 * the code does.
 */
export const PaymentEntity = new EntitySchema<PaymentRow>({
  name: 'Payment',
  tableName: 'payments',
  columns: {
    paymentId: { name: 'payment_id', type: 'uuid', primary: true },
    orderId: { name: 'order_id', type: 'uuid' },
    customerId: { name: 'customer_id', type: 'text', nullable: true },
    amount: { type: 'int' },
    currency: { type: 'varchar', length: 3 },
    status: { type: 'varchar', length: 24 },
    reason: { type: 'text', nullable: true },
    providerRef: { name: 'provider_ref', type: 'text', nullable: true },
    createdAt: { name: 'created_at', type: 'timestamptz' },
    updatedAt: { name: 'updated_at', type: 'timestamptz' },
  },
  checks: [
    { name: 'payments_amount_nonnegative', expression: '"amount" >= 0' },
    {
      name: 'payments_status_known',
      expression: `"status" IN ('SUCCEEDED', 'DECLINED', 'INSUFFICIENT_FUNDS', 'PROVIDER_ERROR', 'REFUNDED')`,
    },
  ],
  indices: [
    {
      name: 'payments_one_success_per_order',
      columns: ['orderId'],
      unique: true,
      where: `"status" IN ('SUCCEEDED', 'REFUNDED')`,
    },
    { name: 'payments_by_order', columns: ['orderId', 'createdAt'] },
  ],
});

export interface RefundRow {
  refundId: string;
  paymentId: string;
  orderId: string;
  amount: number;
  currency: string;
  reason: string;
  providerRef: string;
  createdAt: Date;
}

/** One full refund per payment (UNIQUE payment_id). */
export const RefundEntity = new EntitySchema<RefundRow>({
  name: 'Refund',
  tableName: 'refunds',
  columns: {
    refundId: { name: 'refund_id', type: 'uuid', primary: true },
    paymentId: { name: 'payment_id', type: 'uuid', unique: true },
    orderId: { name: 'order_id', type: 'uuid' },
    amount: { type: 'int' },
    currency: { type: 'varchar', length: 3 },
    reason: { type: 'text' },
    providerRef: { name: 'provider_ref', type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz' },
  },
});

export interface OrderVoidRow {
  orderId: string;
  reason: string;
  createdAt: Date;
}

/** Orders compensated by a refund: a charge arriving after it is refused. */
export const OrderVoidEntity = new EntitySchema<OrderVoidRow>({
  name: 'OrderVoid',
  tableName: 'order_voids',
  columns: {
    orderId: { name: 'order_id', type: 'uuid', primary: true },
    reason: { type: 'text' },
    createdAt: { name: 'created_at', type: 'timestamptz' },
  },
});

export interface OrderOwnerRow {
  orderId: string;
  customerId: string;
}

/** Who placed an order, learnt from order_created (payment keeps its own copy; no shared database). */
export const OrderOwnerEntity = new EntitySchema<OrderOwnerRow>({
  name: 'OrderOwner',
  tableName: 'order_owners',
  columns: {
    orderId: { name: 'order_id', type: 'uuid', primary: true },
    customerId: { name: 'customer_id', type: 'text' },
  },
});

export const paymentEntities = [PaymentEntity, RefundEntity, OrderVoidEntity, OrderOwnerEntity];
