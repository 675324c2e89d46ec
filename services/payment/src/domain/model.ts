/** Why a charge did not succeed; also the `code` of payment_failed. */
export type FailureCode = 'declined' | 'insufficient_funds' | 'provider_error';

/** A success says what it charged, so the caller can check it paid for what it asked (the saga does). */
export type ChargeOutcome =
  | { outcome: 'succeeded'; paymentId: string; amount: number; currency: string }
  | { outcome: FailureCode; reason: string };

export type RefundOutcome =
  { outcome: 'refunded'; refundId: string; paymentId: string } | { outcome: 'nothing_to_refund' };

export interface ChargeCommand {
  orderId: string;
  /** Integer minor units. */
  amount: number;
  currency: string;
  paymentToken: string;
  /** The order's customer (the saga always sends it): who may see the charge besides admins. */
  customerId?: string;
}

export type PaymentStatus = 'SUCCEEDED' | 'DECLINED' | 'INSUFFICIENT_FUNDS' | 'PROVIDER_ERROR' | 'REFUNDED';

export interface Refund {
  refundId: string;
  paymentId: string;
  amount: number;
  currency: string;
  reason: string;
  /** The provider's reference of the refund, for reconciliation; never shown to clients. */
  providerRef: string;
  createdAt: Date;
}

/** One charge attempt and, once refunded, its refund. */
export interface Payment {
  paymentId: string;
  orderId: string;
  customerId: string | null;
  amount: number;
  currency: string;
  status: PaymentStatus;
  reason: string | null;
  providerRef: string | null;
  createdAt: Date;
  refund: Refund | null;
}

export const statusOfFailure: Record<FailureCode, PaymentStatus> = {
  declined: 'DECLINED',
  insufficient_funds: 'INSUFFICIENT_FUNDS',
  provider_error: 'PROVIDER_ERROR',
};

/**
 * Everything payment knows about one order, kept as one aggregate (one key of payment's Dapr state
 * store): who placed it, whether it may still be charged, and its charge. A charge command records
 * one attempt; every later charge command answers that attempt.
 */
export interface PaymentLedger {
  orderId: string;
  customerId: string | null;
  /** Set by the first refund command: no charge may succeed after it. */
  voided: { reason: string; at: Date } | null;
  charge: Payment | null;
}

export function emptyLedger(orderId: string): PaymentLedger {
  return { orderId, customerId: null, voided: null, charge: null };
}
