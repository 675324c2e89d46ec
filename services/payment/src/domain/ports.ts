import type { FailureCode, Payment, Refund } from './model';

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  newId(): string;
}

export type ProviderChargeResult =
  { kind: 'succeeded'; providerRef: string } | { kind: FailureCode; reason: string };

/**
 * A payment provider. `idempotencyKey` lets a provider recognise a retried
 * call (after a crash between its answer and our commit) and answer it again
 * instead of charging twice. A thrown error means "unknown, try again later".
 */
export interface PaymentProvider {
  charge(request: {
    amount: number;
    currency: string;
    token: string;
    idempotencyKey: string;
  }): Promise<ProviderChargeResult>;
  refund(request: {
    providerRef: string;
    amount: number;
    currency: string;
    idempotencyKey: string;
  }): Promise<{ providerRef: string }>;
}

/** The work on one order's payments, done while holding that order's lock, committed at the end. */
export interface PaymentTransaction {
  /** The latest charge attempt of the order (its recorded outcome). */
  latestCharge(orderId: string): Promise<Payment | undefined>;
  isVoided(orderId: string): Promise<boolean>;
  /** Records that the order must not be charged any more; false when it already was. */
  void(orderId: string, reason: string, now: Date): Promise<boolean>;
  /** Stores the attempt and emits payment_success / payment_failed with it. */
  recordCharge(payment: Omit<Payment, 'refund'>): Promise<void>;
  /** Marks the payment refunded, stores the refund and emits payment_refunded with it. */
  recordRefund(orderId: string, refund: Refund & { providerRef: string }): Promise<void>;
}

export interface PaymentStore {
  /** Runs `work` in one transaction holding the order's lock, so commands on one order never interleave. */
  withOrderLock<T>(orderId: string, work: (tx: PaymentTransaction) => Promise<T>): Promise<T>;
  /** Remembers who placed an order (from order_created), once per event. */
  rememberOwner(eventId: string, orderId: string, customerId: string): Promise<void>;
  ownerOf(orderId: string): Promise<string | undefined>;
  paymentsOf(orderId: string): Promise<Payment[]>;
}
