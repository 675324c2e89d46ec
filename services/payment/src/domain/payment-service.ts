import { AppError, type FieldProblem } from '@ecom/shared';
import {
  statusOfFailure,
  type ChargeCommand,
  type ChargeOutcome,
  type Payment,
  type RefundOutcome,
} from './model';
import type { Clock, IdGenerator, PaymentProvider, PaymentStore } from './ports';

export interface PaymentServiceDeps {
  store: PaymentStore;
  provider: PaymentProvider;
  clock: Clock;
  ids: IdGenerator;
}

/** Who is asking for an order's payments. */
export interface Viewer {
  userId: string;
  admin: boolean;
}

function recordedOutcome(payment: Payment): ChargeOutcome {
  if (payment.status === 'SUCCEEDED' || payment.status === 'REFUNDED') {
    return {
      outcome: 'succeeded',
      paymentId: payment.paymentId,
      amount: payment.amount,
      currency: payment.currency,
    };
  }
  const code =
    payment.status === 'INSUFFICIENT_FUNDS'
      ? 'insufficient_funds'
      : payment.status === 'PROVIDER_ERROR'
        ? 'provider_error'
        : 'declined';
  return { outcome: code, reason: payment.reason ?? code };
}

/**
 * A repeated charge must be the same command: answering a different amount or
 * currency with the recorded outcome would let whoever charged first (say, 1
 * cent) stand for the order's real total.
 */
function assertSameCharge(recorded: Payment, command: ChargeCommand): void {
  const fields: FieldProblem[] = [];
  if (recorded.amount !== command.amount) {
    fields.push({ field: 'amount', message: `differs from the ${recorded.amount} already charged` });
  }
  if (recorded.currency !== command.currency) {
    fields.push({ field: 'currency', message: `differs from the ${recorded.currency} already charged` });
  }
  if (fields.length > 0) {
    throw new AppError(
      'CONFLICT',
      `order ${command.orderId} already has a charge attempt for ${recorded.amount} ${recorded.currency}`,
      { fields },
    );
  }
}

/**
 * Charges and refunds, one order at a time: both commands take the order's
 * lock, so a refund can never slip between a charge and its record. Each
 * command is idempotent: a retry answers the recorded outcome.
 */
export class PaymentService {
  constructor(private readonly deps: PaymentServiceDeps) {}

  async charge(command: ChargeCommand): Promise<ChargeOutcome> {
    const { store, provider, clock, ids } = this.deps;
    return store.withOrderLock(command.orderId, async (tx) => {
      const recorded = await tx.latestCharge(command.orderId);
      if (recorded) {
        assertSameCharge(recorded, command);
        return recordedOutcome(recorded);
      }
      const base = {
        paymentId: ids.newId(),
        orderId: command.orderId,
        customerId: command.customerId ?? null,
        amount: command.amount,
        currency: command.currency,
        createdAt: clock.now(),
      };
      if (await tx.isVoided(command.orderId)) {
        await tx.recordCharge({ ...base, status: 'DECLINED', reason: 'order voided', providerRef: null });
        return { outcome: 'declined', reason: 'order voided' };
      }
      const result = await provider.charge({
        amount: command.amount,
        currency: command.currency,
        token: command.paymentToken,
        idempotencyKey: `charge:${command.orderId}`,
      });
      if (result.kind === 'succeeded') {
        await tx.recordCharge({
          ...base,
          status: 'SUCCEEDED',
          reason: null,
          providerRef: result.providerRef,
        });
        return {
          outcome: 'succeeded',
          paymentId: base.paymentId,
          amount: base.amount,
          currency: base.currency,
        };
      }
      await tx.recordCharge({
        ...base,
        status: statusOfFailure[result.kind],
        reason: result.reason,
        providerRef: null,
      });
      return { outcome: result.kind, reason: result.reason };
    });
  }

  /** Refunds the order's successful charge, if any, and voids the order so a late charge is refused. */
  async refund(orderId: string, reason: string): Promise<RefundOutcome> {
    const { store, provider, clock, ids } = this.deps;
    return store.withOrderLock(orderId, async (tx) => {
      await tx.void(orderId, reason, clock.now());
      const charge = await tx.latestCharge(orderId);
      if (charge?.status === 'REFUNDED' && charge.refund) {
        return { outcome: 'refunded', refundId: charge.refund.refundId, paymentId: charge.paymentId };
      }
      if (charge?.status !== 'SUCCEEDED' || !charge.providerRef) return { outcome: 'nothing_to_refund' };
      const refunded = await provider.refund({
        providerRef: charge.providerRef,
        amount: charge.amount,
        currency: charge.currency,
        idempotencyKey: `refund:${charge.paymentId}`,
      });
      const refundId = ids.newId();
      await tx.recordRefund(orderId, {
        refundId,
        paymentId: charge.paymentId,
        amount: charge.amount,
        currency: charge.currency,
        reason,
        createdAt: clock.now(),
        providerRef: refunded.providerRef,
      });
      return { outcome: 'refunded', refundId, paymentId: charge.paymentId };
    });
  }

  async rememberOwner(eventId: string, orderId: string, customerId: string): Promise<void> {
    await this.deps.store.rememberOwner(eventId, orderId, customerId);
  }

  /**
   * The order's payments, for its customer or an admin. Another customer's
   * order answers like an unknown one, so the answer never tells whether an
   * order id exists.
   */
  async paymentsOf(orderId: string, viewer: Viewer): Promise<Payment[]> {
    if (!viewer.admin) {
      const owner = await this.deps.store.ownerOf(orderId);
      if (owner === undefined || owner !== viewer.userId) {
        throw AppError.notFound(`no payments known for order ${orderId}`);
      }
    }
    return this.deps.store.paymentsOf(orderId);
  }
}
