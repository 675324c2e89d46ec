import type { EventInput } from '@ecom/shared';
import type { FailureCode, PaymentLedger } from './model';

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
 * call (after a crash between its answer and our commit, or a lost write race)
 * and answer it again instead of charging twice. A thrown error means
 * "unknown, try again later".
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

/** The event a ledger change causes; the store publishes it if and only if the change is stored. */
export type PaymentEvent =
  | { name: 'payment_success'; input: EventInput<'payment_success'> }
  | { name: 'payment_failed'; input: EventInput<'payment_failed'> }
  | { name: 'payment_refunded'; input: EventInput<'payment_refunded'> };

/**
 * Each order's ledger, changed by optimistic concurrency: `read` answers the ledger and the
 * version it was read at (null when nothing is stored yet), `save` stores a changed ledger only
 * if it is still at that version. Concurrent commands on one order never both win.
 */
export interface PaymentStore {
  read(orderId: string): Promise<{ ledger: PaymentLedger; version: string | null }>;
  /** False when another write won since `version` was read: nothing was stored or published. */
  save(ledger: PaymentLedger, version: string | null, event?: PaymentEvent): Promise<boolean>;
}
