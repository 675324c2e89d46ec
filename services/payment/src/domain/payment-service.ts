import { AppError, type FieldProblem } from '@ecom/shared';
import {
  statusOfFailure,
  type ChargeCommand,
  type ChargeOutcome,
  type FailureCode,
  type Payment,
  type PaymentLedger,
  type Refund,
  type RefundOutcome,
} from './model';
import type {
  Clock,
  IdGenerator,
  PaymentEvent,
  PaymentProvider,
  PaymentStore,
  ProviderChargeResult,
} from './ports';

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

/** Why a charge that met a voided order was declined. */
const ORDER_VOIDED = 'order voided';

function recordedOutcome(payment: Payment): ChargeOutcome {
  // A charge the provider made while a refund voided the order was given back at once: declined.
  if (payment.reason === ORDER_VOIDED) return { outcome: 'declined', reason: ORDER_VOIDED };
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

/** How often a command re-reads its order's ledger after losing a write race before it gives up (a 503 the caller retries). */
const MAX_ATTEMPTS = 10;

/** What a command's step answers when another write won the race since it read the ledger. */
const LOST = Symbol('lost the write race');

function failureCodeOf(status: Payment['status']): FailureCode {
  return status === 'INSUFFICIENT_FUNDS'
    ? 'insufficient_funds'
    : status === 'PROVIDER_ERROR'
      ? 'provider_error'
      : 'declined';
}

/** The event that records a charge attempt. */
function chargeEvent(payment: Payment): PaymentEvent {
  return payment.status === 'SUCCEEDED'
    ? {
        name: 'payment_success',
        input: {
          orderId: payment.orderId,
          paymentId: payment.paymentId,
          amount: payment.amount,
          currency: payment.currency,
        },
      }
    : {
        name: 'payment_failed',
        input: {
          orderId: payment.orderId,
          code: failureCodeOf(payment.status),
          reason: payment.reason ?? failureCodeOf(payment.status),
        },
      };
}

function refundEvent(payment: Payment, refund: Refund): PaymentEvent {
  return {
    name: 'payment_refunded',
    input: {
      orderId: payment.orderId,
      paymentId: payment.paymentId,
      refundId: refund.refundId,
      amount: refund.amount,
      currency: refund.currency,
    },
  };
}

/**
 * Charges and refunds. Each command reads its order's ledger, decides, and stores the outcome with
 * its event only if the ledger did not change meanwhile; a command that lost the race reads again
 * and decides again. The provider is called with idempotency keys, so deciding again never charges
 * or refunds twice. Each command is idempotent: a retry answers the recorded outcome.
 */
export class PaymentService {
  constructor(private readonly deps: PaymentServiceDeps) {}

  async charge(command: ChargeCommand): Promise<ChargeOutcome> {
    const { store, provider, clock, ids } = this.deps;
    const paymentId = ids.newId();
    // What the provider answered this command: kept across lost races, never asked twice.
    let charged: ProviderChargeResult | undefined;
    return this.decide(command.orderId, 'payment', async ({ ledger, version }) => {
      if (ledger.charge) {
        assertSameCharge(ledger.charge, command);
        return recordedOutcome(ledger.charge);
      }
      const base = {
        paymentId,
        orderId: command.orderId,
        customerId: command.customerId ?? ledger.customerId,
        amount: command.amount,
        currency: command.currency,
        createdAt: clock.now(),
      };
      if (ledger.voided) {
        const declined: Payment = {
          ...base,
          status: 'DECLINED',
          reason: ORDER_VOIDED,
          providerRef: null,
          refund: null,
        };
        if (charged?.kind === 'succeeded') {
          // A refund voided the order while the provider was charging it: the money goes back at once.
          const refund = await this.refundAtProvider(
            { ...declined, status: 'SUCCEEDED', providerRef: charged.providerRef },
            ledger.voided.reason,
          );
          const payment: Payment = {
            ...declined,
            status: 'REFUNDED',
            providerRef: charged.providerRef,
            refund,
          };
          if (await store.save({ ...ledger, charge: payment }, version, refundEvent(payment, refund))) {
            return { outcome: 'declined', reason: ORDER_VOIDED };
          }
          return LOST;
        }
        if (await store.save({ ...ledger, charge: declined }, version, chargeEvent(declined))) {
          return { outcome: 'declined', reason: ORDER_VOIDED };
        }
        return LOST;
      }
      charged ??= await provider.charge({
        amount: command.amount,
        currency: command.currency,
        token: command.paymentToken,
        idempotencyKey: `charge:${command.orderId}`,
      });
      const payment: Payment =
        charged.kind === 'succeeded'
          ? { ...base, status: 'SUCCEEDED', reason: null, providerRef: charged.providerRef, refund: null }
          : {
              ...base,
              status: statusOfFailure[charged.kind],
              reason: charged.reason,
              providerRef: null,
              refund: null,
            };
      if (await store.save({ ...ledger, charge: payment }, version, chargeEvent(payment))) {
        return recordedOutcome(payment);
      }
      return LOST;
    });
  }

  /** Refunds the order's successful charge, if any, and voids the order so a late charge is refused. */
  async refund(orderId: string, reason: string): Promise<RefundOutcome> {
    const { store, clock } = this.deps;
    let refund: Refund | undefined;
    return this.decide(orderId, 'refund', async ({ ledger, version }) => {
      const voided = { ...ledger, voided: ledger.voided ?? { reason, at: clock.now() } };
      const charge = ledger.charge;
      if (charge?.status !== 'SUCCEEDED' || !charge.providerRef) {
        // Nothing (more) to refund; the void is stored once.
        const stored = ledger.voided !== null || (await store.save(voided, version));
        if (!stored) return LOST;
        return charge?.status === 'REFUNDED' && charge.refund
          ? { outcome: 'refunded', refundId: charge.refund.refundId, paymentId: charge.paymentId }
          : { outcome: 'nothing_to_refund' };
      }
      refund ??= await this.refundAtProvider(charge, reason);
      const payment: Payment = { ...charge, status: 'REFUNDED', refund };
      if (await store.save({ ...voided, charge: payment }, version, refundEvent(payment, refund))) {
        return { outcome: 'refunded', refundId: refund.refundId, paymentId: charge.paymentId };
      }
      return LOST;
    });
  }

  /**
   * The order's payments, for its customer or an admin. Another customer's
   * order answers like an unknown one, so the answer never tells whether an
   * order id exists.
   */
  async paymentsOf(orderId: string, viewer: Viewer): Promise<Payment[]> {
    const { ledger } = await this.deps.store.read(orderId);
    const owner = ledger.customerId ?? ledger.charge?.customerId ?? null;
    if (!viewer.admin && (owner === null || owner !== viewer.userId)) {
      throw AppError.notFound(`no payments known for order ${orderId}`);
    }
    return ledger.charge ? [ledger.charge] : [];
  }

  /**
   * Reads the order's ledger and hands it to `step`, which decides and stores; when `step` lost the
   * write race (LOST), the ledger is read and decided again, up to MAX_ATTEMPTS times, then the
   * command answers 503 so its caller retries.
   */
  private async decide<T>(
    orderId: string,
    what: string,
    step: (read: { ledger: PaymentLedger; version: string | null }) => Promise<T | typeof LOST>,
  ): Promise<T> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt += 1) {
      const outcome = await step(await this.deps.store.read(orderId));
      if (outcome !== LOST) return outcome;
    }
    throw new AppError('UNAVAILABLE', `${what} of order ${orderId} kept losing write races; retry`);
  }

  /** Returns a successful charge's money; the provider answers a repeated refund of one payment once. */
  private async refundAtProvider(charge: Payment, reason: string): Promise<Refund> {
    const { provider, clock, ids } = this.deps;
    if (!charge.providerRef)
      throw new AppError('INTERNAL', `payment ${charge.paymentId} has no provider reference`);
    const refunded = await provider.refund({
      providerRef: charge.providerRef,
      amount: charge.amount,
      currency: charge.currency,
      idempotencyKey: `refund:${charge.paymentId}`,
    });
    return {
      refundId: ids.newId(),
      paymentId: charge.paymentId,
      amount: charge.amount,
      currency: charge.currency,
      reason,
      providerRef: refunded.providerRef,
      createdAt: clock.now(),
    };
  }
}
