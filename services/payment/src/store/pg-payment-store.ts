import { enqueueEvent, processOnce, sqlRows } from '@ecom/shared';
import type { DataSource, EntityManager } from 'typeorm';
import type { Payment, PaymentStatus, Refund } from '../domain/model';
import type { PaymentStore, PaymentTransaction } from '../domain/ports';

interface PaymentRecord {
  payment_id: string;
  order_id: string;
  customer_id: string | null;
  amount: number;
  currency: string;
  status: PaymentStatus;
  reason: string | null;
  provider_ref: string | null;
  created_at: Date;
  refund_id: string | null;
  refund_amount: number | null;
  refund_currency: string | null;
  refund_reason: string | null;
  refunded_at: Date | null;
}

const SELECT_PAYMENTS = `
  SELECT p.payment_id, p.order_id, p.customer_id, p.amount, p.currency, p.status, p.reason, p.provider_ref,
         p.created_at, r.refund_id, r.amount AS refund_amount, r.currency AS refund_currency,
         r.reason AS refund_reason, r.created_at AS refunded_at
  FROM payments p LEFT JOIN refunds r ON r.payment_id = p.payment_id
  WHERE p.order_id = $1`;

function toPayment(r: PaymentRecord): Payment {
  const refund: Refund | null =
    r.refund_id && r.refunded_at
      ? {
          refundId: r.refund_id,
          paymentId: r.payment_id,
          amount: r.refund_amount ?? r.amount,
          currency: r.refund_currency ?? r.currency,
          reason: r.refund_reason ?? '',
          createdAt: r.refunded_at,
        }
      : null;
  return {
    paymentId: r.payment_id,
    orderId: r.order_id,
    customerId: r.customer_id,
    amount: r.amount,
    currency: r.currency,
    status: r.status,
    reason: r.reason,
    providerRef: r.provider_ref,
    createdAt: r.created_at,
    refund,
  };
}

class PgPaymentTransaction implements PaymentTransaction {
  constructor(private readonly m: EntityManager) {}

  async latestCharge(orderId: string): Promise<Payment | undefined> {
    const [row] = await sqlRows<PaymentRecord>(
      this.m,
      `${SELECT_PAYMENTS} ORDER BY p.created_at DESC, p.payment_id DESC LIMIT 1`,
      [orderId],
    );
    return row ? toPayment(row) : undefined;
  }

  async isVoided(orderId: string): Promise<boolean> {
    const rows = await sqlRows(this.m, 'SELECT 1 FROM order_voids WHERE order_id = $1', [orderId]);
    return rows.length > 0;
  }

  async void(orderId: string, reason: string, now: Date): Promise<boolean> {
    const rows = await sqlRows(
      this.m,
      `INSERT INTO order_voids (order_id, reason, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
      [orderId, reason, now],
    );
    return rows.length > 0;
  }

  async recordCharge(p: Omit<Payment, 'refund'>): Promise<void> {
    await this.m.query(
      `INSERT INTO payments (payment_id, order_id, customer_id, amount, currency, status, reason, provider_ref,
         created_at, updated_at)
       VALUES ($1, $2, COALESCE($3, (SELECT customer_id FROM order_owners WHERE order_id = $2)), $4, $5, $6, $7, $8,
         $9, $9)`,
      [
        p.paymentId,
        p.orderId,
        p.customerId,
        p.amount,
        p.currency,
        p.status,
        p.reason,
        p.providerRef,
        p.createdAt,
      ],
    );
    if (p.status === 'SUCCEEDED') {
      await enqueueEvent(this.m, 'payment_success', {
        orderId: p.orderId,
        paymentId: p.paymentId,
        amount: p.amount,
        currency: p.currency,
      });
    } else {
      const code =
        p.status === 'INSUFFICIENT_FUNDS'
          ? 'insufficient_funds'
          : p.status === 'PROVIDER_ERROR'
            ? 'provider_error'
            : 'declined';
      await enqueueEvent(this.m, 'payment_failed', { orderId: p.orderId, code, reason: p.reason ?? code });
    }
  }

  async recordRefund(orderId: string, refund: Refund & { providerRef: string }): Promise<void> {
    await this.m.query(`UPDATE payments SET status = 'REFUNDED', updated_at = $2 WHERE payment_id = $1`, [
      refund.paymentId,
      refund.createdAt,
    ]);
    await this.m.query(
      `INSERT INTO refunds (refund_id, payment_id, order_id, amount, currency, reason, provider_ref, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        refund.refundId,
        refund.paymentId,
        orderId,
        refund.amount,
        refund.currency,
        refund.reason,
        refund.providerRef,
        refund.createdAt,
      ],
    );
    await enqueueEvent(this.m, 'payment_refunded', {
      orderId,
      paymentId: refund.paymentId,
      refundId: refund.refundId,
      amount: refund.amount,
      currency: refund.currency,
    });
  }
}

export class PgPaymentStore implements PaymentStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly afterCommit: () => void = () => undefined,
  ) {}

  async withOrderLock<T>(orderId: string, work: (tx: PaymentTransaction) => Promise<T>): Promise<T> {
    const result = await this.dataSource.transaction(async (m) => {
      // Held until commit: a charge and a refund of one order never interleave.
      await m.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [orderId]);
      return work(new PgPaymentTransaction(m));
    });
    this.afterCommit();
    return result;
  }

  async rememberOwner(eventId: string, orderId: string, customerId: string): Promise<void> {
    await processOnce(this.dataSource, 'payment.order_created', eventId, async (m) => {
      await m.query(
        `INSERT INTO order_owners (order_id, customer_id) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING`,
        [orderId, customerId],
      );
      await m.query('UPDATE payments SET customer_id = $2 WHERE order_id = $1 AND customer_id IS NULL', [
        orderId,
        customerId,
      ]);
    });
  }

  async ownerOf(orderId: string): Promise<string | undefined> {
    const [row] = await sqlRows<{ customer_id: string }>(
      this.dataSource.manager,
      `SELECT customer_id FROM order_owners WHERE order_id = $1
       UNION ALL SELECT customer_id FROM payments WHERE order_id = $1 AND customer_id IS NOT NULL LIMIT 1`,
      [orderId],
    );
    return row?.customer_id;
  }

  async paymentsOf(orderId: string): Promise<Payment[]> {
    const rows = await sqlRows<PaymentRecord>(
      this.dataSource.manager,
      `${SELECT_PAYMENTS} ORDER BY p.created_at, p.payment_id`,
      [orderId],
    );
    return rows.map(toPayment);
  }
}
