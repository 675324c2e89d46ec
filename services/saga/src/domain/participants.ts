import type { CancellationReason, OrderLine } from './saga';

/**
 * The commands the saga sends to its participants (services/README.md). Each is
 * idempotent and keyed by the order id: a retry returns the recorded outcome.
 * Adapters throw AppError: UNAVAILABLE / INTERNAL / RATE_LIMITED mean "try
 * again", any other kind is the participant's definitive refusal.
 *
 * The forward commands take the step's deadline (`until`, saga version 5): the call gets only the
 * time left before it, and one that has none left fails UNAVAILABLE without being sent.
 */

export type ReserveOutcome =
  | {
      outcome: 'reserved';
      expiresAt: string;
      /**
       * The lines the reservation holds (the recorded ones, on a repeated command). Required by the
       * contract; optional here so that an answer without them reaches the check and fails the step.
       */
      items?: { sku: string; quantity: number }[];
    }
  | {
      outcome: 'failed';
      reason?: string;
      shortfalls?: { sku: string; requested: number; available: number }[];
    };

export type ChargeOutcome =
  /** `amount` and `currency` are what was charged: the recorded charge's, on a repeated command. */
  | { outcome: 'succeeded'; paymentId: string; amount?: number; currency?: string }
  | { outcome: 'declined' | 'insufficient_funds' | 'provider_error'; reason?: string };

export type ReleaseOutcome = { outcome: 'released' | 'not_reserved' | 'already_committed' };
export type RefundOutcome =
  { outcome: 'refunded'; refundId: string; paymentId: string } | { outcome: 'nothing_to_refund' };

export interface InventoryPort {
  reserve(
    orderId: string,
    items: Pick<OrderLine, 'sku' | 'quantity'>[],
    ttlSeconds: number,
    until?: Date,
  ): Promise<ReserveOutcome>;
  /** Turns the reservation into a sale; CONFLICT when it was released or expired. */
  commit(orderId: string): Promise<void>;
  release(orderId: string, reason: CancellationReason): Promise<ReleaseOutcome>;
}

export interface PaymentPort {
  charge(
    command: { orderId: string; customerId?: string; amount: number; currency: string; paymentToken: string },
    until?: Date,
  ): Promise<ChargeOutcome>;
  /** Refunds a successful charge and voids the order, so a late charge is refused. */
  refund(orderId: string, reason: CancellationReason): Promise<RefundOutcome>;
}

export interface OrderPort {
  /** CONFLICT when the order is already CANCELLED. */
  markPaid(orderId: string): Promise<void>;
  /** CONFLICT when the order is already PAID. */
  markCancelled(orderId: string, reason: CancellationReason): Promise<void>;
}
