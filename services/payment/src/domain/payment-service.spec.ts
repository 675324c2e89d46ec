import { TestTokenProvider } from '../provider/test-token-provider';
import { emptyLedger, type Payment, type PaymentLedger } from './model';
import { PaymentService } from './payment-service';
import type { PaymentEvent, PaymentProvider, PaymentStore } from './ports';

/** An in-memory PaymentStore with the Dapr store's contract: a save wins only at the version it read. */
class MemoryPaymentStore implements PaymentStore {
  readonly ledgers = new Map<string, { ledger: PaymentLedger; version: string }>();
  readonly events: { topic: string; orderId: string }[] = [];
  private versions = 0;

  get payments(): Payment[] {
    return [...this.ledgers.values()].flatMap((l) => (l.ledger.charge ? [l.ledger.charge] : []));
  }
  async read(orderId: string) {
    const stored = this.ledgers.get(orderId);
    return stored
      ? { ledger: structuredClone(stored.ledger), version: stored.version }
      : { ledger: emptyLedger(orderId), version: null };
  }
  async save(ledger: PaymentLedger, version: string | null, event?: PaymentEvent) {
    if ((this.ledgers.get(ledger.orderId)?.version ?? null) !== version) return false;
    this.ledgers.set(ledger.orderId, { ledger: structuredClone(ledger), version: String(++this.versions) });
    if (event) this.events.push({ topic: event.name, orderId: ledger.orderId });
    return true;
  }
}

function setup(provider?: PaymentProvider) {
  let id = 0;
  const ids = { newId: () => `id-${++id}` };
  const store = new MemoryPaymentStore();
  const service = new PaymentService({
    store,
    provider: provider ?? new TestTokenProvider(ids),
    clock: { now: () => new Date('2026-01-01T00:00:00Z') },
    ids,
  });
  return { store, service };
}

const charge = (orderId: string, paymentToken: string) => ({
  orderId,
  amount: 1000,
  currency: 'USD',
  paymentToken,
});

describe('PaymentService', () => {
  it.each([
    ['tok_visa', 'succeeded'],
    ['tok_chargeDeclined', 'declined'],
    ['tok_chargeDeclinedInsufficientFunds', 'insufficient_funds'],
    ['tok_processingError', 'provider_error'],
    ['tok_unknown', 'declined'],
  ])('charges %s → %s', async (token, outcome) => {
    const { service, store } = setup();
    await expect(service.charge(charge('o1', token))).resolves.toMatchObject({ outcome });
    expect(store.events).toHaveLength(1);
  });

  it('charges once for concurrent duplicate commands and answers each with the recorded outcome', async () => {
    const { service, store } = setup();
    const outcomes = await Promise.all([1, 2, 3, 4].map(() => service.charge(charge('o1', 'tok_visa'))));
    expect(new Set(outcomes.map((o) => JSON.stringify(o))).size).toBe(1);
    expect(store.payments).toHaveLength(1);
    expect(store.events).toEqual([{ topic: 'payment_success', orderId: 'o1' }]);
  });

  it('refunds a successful charge once and voids the order', async () => {
    const { service, store } = setup();
    const charged = await service.charge(charge('o1', 'tok_visa'));
    const first = await service.refund('o1', 'payment_compensation');
    const again = await service.refund('o1', 'payment_compensation');
    expect(first).toEqual(again);
    expect(first).toMatchObject({
      outcome: 'refunded',
      paymentId: (charged as { paymentId: string }).paymentId,
    });
    expect(store.events.map((e) => e.topic)).toEqual(['payment_success', 'payment_refunded']);
  });

  it('has nothing to refund for a declined charge', async () => {
    const { service, store } = setup();
    await service.charge(charge('o1', 'tok_chargeDeclined'));
    await expect(service.refund('o1', 'x')).resolves.toEqual({ outcome: 'nothing_to_refund' });
    expect(store.events.map((e) => e.topic)).toEqual(['payment_failed']);
  });

  it('declines a charge that arrives after the order was voided, without calling the provider', async () => {
    const calls: string[] = [];
    const provider: PaymentProvider = {
      charge: async (r) => {
        calls.push(r.token);
        return { kind: 'succeeded', providerRef: 'ch_1' };
      },
      refund: async () => ({ providerRef: 're_1' }),
    };
    const { service } = setup(provider);
    await service.refund('o1', 'deadline_exceeded');
    await expect(service.charge(charge('o1', 'tok_visa'))).resolves.toEqual({
      outcome: 'declined',
      reason: 'order voided',
    });
    expect(calls).toEqual([]);
  });

  it('gives the money back when a refund voided the order while the provider was charging it', async () => {
    const calls: string[] = [];
    const late: { service?: PaymentService } = {};
    const provider: PaymentProvider = {
      charge: async () => {
        calls.push('charge');
        // The saga's compensation overtakes this charge: it finds nothing to refund and voids the order.
        await expect(late.service?.refund('o1', 'deadline_exceeded')).resolves.toEqual({
          outcome: 'nothing_to_refund',
        });
        return { kind: 'succeeded', providerRef: 'ch_1' };
      },
      refund: async (r) => {
        calls.push(`refund ${r.providerRef} ${r.idempotencyKey}`);
        return { providerRef: 're_1' };
      },
    };
    const setUp = setup(provider);
    const { service } = setUp;
    late.service = service;
    const outcome = await service.charge(charge('o1', 'tok_visa'));
    expect(outcome).toEqual({ outcome: 'declined', reason: 'order voided' });
    expect(calls).toEqual(['charge', expect.stringMatching(/^refund ch_1 refund:/)]);
    expect(setUp.store.payments).toMatchObject([{ status: 'REFUNDED', refund: { providerRef: 're_1' } }]);
    expect(setUp.store.events.map((e) => e.topic)).toEqual(['payment_refunded']);
    // A retried charge answers the same, and nothing is charged again.
    await expect(service.charge(charge('o1', 'tok_visa'))).resolves.toEqual(outcome);
    expect(calls).toHaveLength(2);
  });

  it('records nothing when the provider cannot be reached, so the command can be retried', async () => {
    let fail = true;
    const provider: PaymentProvider = {
      charge: async () => {
        if (fail) throw new Error('connection reset');
        return { kind: 'succeeded', providerRef: 'ch_1' };
      },
      refund: async () => ({ providerRef: 're_1' }),
    };
    const { service, store } = setup(provider);
    await expect(service.charge(charge('o1', 'tok_visa'))).rejects.toThrow('connection reset');
    expect(store.payments).toHaveLength(0);
    fail = false;
    await expect(service.charge(charge('o1', 'tok_visa'))).resolves.toMatchObject({ outcome: 'succeeded' });
  });

  it('answers a successful charge with what it charged, also when repeated', async () => {
    const { service } = setup();
    const first = await service.charge(charge('o1', 'tok_visa'));
    expect(first).toEqual({
      outcome: 'succeeded',
      paymentId: expect.any(String) as unknown,
      amount: 1000,
      currency: 'USD',
    });
    await expect(service.charge(charge('o1', 'tok_visa'))).resolves.toEqual(first);
  });

  it.each([
    ['amount', { amount: 1 }],
    ['currency', { currency: 'EUR' }],
  ])(
    'refuses (CONFLICT, naming the %s) a charge that differs from the attempt recorded for the order',
    async (field, change) => {
      for (const token of ['tok_visa', 'tok_chargeDeclined']) {
        const { service, store } = setup();
        await service.charge(charge('o1', token));
        const refused = await service
          .charge({ ...charge('o1', 'tok_visa'), ...change })
          .catch((e: unknown) => e);
        expect(refused).toMatchObject({ kind: 'CONFLICT', fields: [{ field }] });
        // Nothing written: still the one attempt and its one event.
        expect(store.payments).toHaveLength(1);
        expect(store.events).toHaveLength(1);
      }
    },
  );

  it('refuses a charge that differs from the declined attempt a void recorded', async () => {
    const { service } = setup();
    await service.refund('o1', 'deadline_exceeded');
    await service.charge(charge('o1', 'tok_visa'));
    await expect(service.charge({ ...charge('o1', 'tok_visa'), amount: 5 })).rejects.toMatchObject({
      kind: 'CONFLICT',
    });
  });

  it('shows payments to the order owner and admins only', async () => {
    const { service } = setup();
    await service.charge({ ...charge('o1', 'tok_visa'), customerId: 'alice' });
    await expect(service.paymentsOf('o1', { userId: 'alice', admin: false })).resolves.toHaveLength(1);
    await expect(service.paymentsOf('o1', { userId: 'root', admin: true })).resolves.toHaveLength(1);
    // Another customer's order looks exactly like an unknown one: no existence oracle.
    await expect(service.paymentsOf('o1', { userId: 'bob', admin: false })).rejects.toMatchObject({
      kind: 'NOT_FOUND',
      message: 'no payments known for order o1',
    });
    await expect(service.paymentsOf('o2', { userId: 'alice', admin: false })).rejects.toMatchObject({
      kind: 'NOT_FOUND',
    });
  });
});
