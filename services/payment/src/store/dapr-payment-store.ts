import { buildEvent, type DaprStateStore, type EventName, type EventPayload } from '@ecom/shared';
import { z } from 'zod';
import { emptyLedger, type PaymentLedger } from '../domain/model';
import type { PaymentEvent, PaymentStore } from '../domain/ports';

const instant = z.iso.datetime().transform((text) => new Date(text));

const refundDocument = z.object({
  refundId: z.string(),
  paymentId: z.string(),
  amount: z.number(),
  currency: z.string(),
  reason: z.string(),
  providerRef: z.string(),
  createdAt: instant,
});

const paymentDocument = z.object({
  paymentId: z.string(),
  orderId: z.string(),
  customerId: z.string().nullable(),
  amount: z.number(),
  currency: z.string(),
  status: z.enum(['SUCCEEDED', 'DECLINED', 'INSUFFICIENT_FUNDS', 'PROVIDER_ERROR', 'REFUNDED']),
  reason: z.string().nullable(),
  providerRef: z.string().nullable(),
  createdAt: instant,
  refund: refundDocument.nullable(),
});

/** A ledger as payment's state store keeps it (JSON: instants as ISO text). */
const ledgerDocument = z.object({
  orderId: z.string(),
  customerId: z.string().nullable(),
  voided: z.object({ reason: z.string(), at: instant }).nullable(),
  charge: paymentDocument.nullable(),
});

const keyOf = (orderId: string) => `payment-${orderId}`;

/** Serialises a ledger: JSON.stringify writes its Dates as ISO text, which `ledgerDocument` reads back. */
function toDocument(ledger: PaymentLedger): unknown {
  return JSON.parse(JSON.stringify(ledger)) as unknown;
}

function completeEvent(event: PaymentEvent): { name: EventName; payload: EventPayload<EventName> } {
  switch (event.name) {
    case 'payment_success':
      return { name: event.name, payload: buildEvent(event.name, event.input) };
    case 'payment_failed':
      return { name: event.name, payload: buildEvent(event.name, event.input) };
    case 'payment_refunded':
      return { name: event.name, payload: buildEvent(event.name, event.input) };
  }
}

/**
 * Each order's payment ledger under one key of payment's Dapr state store (state.postgresql in its
 * own database). A change that causes an event is one state transaction with it, published by
 * Dapr's outbox; one that does not (an owner learnt, a void with nothing to refund) is a plain
 * save. Both are guarded by the ETag the ledger was read with, or by first-write for a new ledger.
 */
export class DaprPaymentStore implements PaymentStore {
  constructor(private readonly state: DaprStateStore) {}

  async read(orderId: string): Promise<{ ledger: PaymentLedger; version: string | null }> {
    const stored = await this.state.get(keyOf(orderId));
    if (stored === undefined) return { ledger: emptyLedger(orderId), version: null };
    const ledger: PaymentLedger = ledgerDocument.parse(stored.value);
    return { ledger, version: stored.etag };
  }

  async save(ledger: PaymentLedger, version: string | null, event?: PaymentEvent): Promise<boolean> {
    const guard = version === null ? { create: true as const } : { etag: version };
    const key = keyOf(ledger.orderId);
    const result =
      event === undefined
        ? await this.state.put(key, toDocument(ledger), guard)
        : await this.state.write(key, toDocument(ledger), guard, completeEvent(event));
    return result === 'written';
  }
}
