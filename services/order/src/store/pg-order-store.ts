import { enqueueEvent, isUniqueViolation, sqlRows } from '@ecom/shared';
import type { DataSource } from 'typeorm';
import type { ListPosition, Order, OrderLine, OrderStatus, TransitionResult } from '../domain/model';
import type { OrderStore } from '../domain/ports';

interface OrderRecord {
  order_id: string;
  customer_id: string;
  status: OrderStatus;
  items: OrderLine[];
  total: number;
  currency: string;
  payment_token: string;
  cancellation_reason: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  deadline: Date;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `order_id, customer_id, status, items, total, currency, payment_token, cancellation_reason,
  idempotency_key, request_hash, deadline, created_at, updated_at`;

function toOrder(r: OrderRecord): Order {
  return {
    orderId: r.order_id,
    customerId: r.customer_id,
    status: r.status,
    items: r.items,
    total: r.total,
    currency: r.currency,
    paymentToken: r.payment_token,
    cancellationReason: r.cancellation_reason,
    idempotencyKey: r.idempotency_key,
    requestHash: r.request_hash,
    deadline: r.deadline,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export class PgOrderStore implements OrderStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly afterCommit: () => void = () => undefined,
  ) {}

  async findByIdempotencyKey(customerId: string, key: string): Promise<Order | undefined> {
    const [row] = await sqlRows<OrderRecord>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM orders WHERE customer_id = $1 AND idempotency_key = $2`,
      [customerId, key],
    );
    return row ? toOrder(row) : undefined;
  }

  async create(order: Order): Promise<{ created: true } | { created: false; existing: Order }> {
    try {
      await this.dataSource.transaction(async (m) => {
        await m.query(
          `INSERT INTO orders (${COLUMNS}) VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [
            order.orderId,
            order.customerId,
            order.status,
            JSON.stringify(order.items),
            order.total,
            order.currency,
            order.paymentToken,
            order.cancellationReason,
            order.idempotencyKey,
            order.requestHash,
            order.deadline,
            order.createdAt,
            order.updatedAt,
          ],
        );
        await enqueueEvent(m, 'order_created', {
          orderId: order.orderId,
          customerId: order.customerId,
          items: order.items.map((l) => ({ sku: l.sku, quantity: l.quantity, unitPrice: l.unitPrice })),
          total: order.total,
          currency: order.currency,
          paymentToken: order.paymentToken,
          deadline: order.deadline.toISOString(),
        });
      });
    } catch (error) {
      // A concurrent retry with the same key won the race: answer with its order.
      if (isUniqueViolation(error) && order.idempotencyKey !== null) {
        const existing = await this.findByIdempotencyKey(order.customerId, order.idempotencyKey);
        if (existing) return { created: false, existing };
      }
      throw error;
    }
    this.afterCommit();
    return { created: true };
  }

  async get(orderId: string): Promise<Order | undefined> {
    const [row] = await sqlRows<OrderRecord>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM orders WHERE order_id = $1`,
      [orderId],
    );
    return row ? toOrder(row) : undefined;
  }

  async listByCustomer(customerId: string, limit: number, after?: ListPosition): Promise<Order[]> {
    const rows = await sqlRows<OrderRecord>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM orders WHERE customer_id = $1
         AND ($2::timestamptz IS NULL OR (created_at, order_id) < ($2::timestamptz, $3::uuid))
       ORDER BY created_at DESC, order_id DESC LIMIT $4`,
      [customerId, after?.createdAt ?? null, after?.orderId ?? null, limit],
    );
    return rows.map(toOrder);
  }

  async finish(
    orderId: string,
    to: 'PAID' | 'CANCELLED',
    reason: string | null,
    now: Date,
  ): Promise<TransitionResult> {
    const result = await this.dataSource.transaction(async (m): Promise<TransitionResult> => {
      const [moved] = await sqlRows<OrderRecord>(
        m,
        `UPDATE orders SET status = $2, cancellation_reason = $3, updated_at = $4
         WHERE order_id = $1 AND status = 'PENDING' RETURNING ${COLUMNS}`,
        [orderId, to, to === 'CANCELLED' ? (reason ?? 'cancelled') : null, now],
      );
      if (!moved) {
        const [current] = await sqlRows<OrderRecord>(m, `SELECT ${COLUMNS} FROM orders WHERE order_id = $1`, [
          orderId,
        ]);
        return current ? { order: toOrder(current), changed: false } : undefined;
      }
      const order = toOrder(moved);
      if (to === 'PAID') {
        await enqueueEvent(m, 'order_paid', {
          orderId,
          customerId: order.customerId,
          total: order.total,
          currency: order.currency,
        });
      } else {
        await enqueueEvent(m, 'order_cancelled', {
          orderId,
          customerId: order.customerId,
          reason: order.cancellationReason ?? 'cancelled',
        });
      }
      return { order, changed: true };
    });
    if (result?.changed) this.afterCommit();
    return result;
  }
}
