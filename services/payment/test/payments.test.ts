import { randomUUID } from 'node:crypto';
import { eventually } from '../../../stack/test/support/eventually';
import type { TestApp } from '../../../stack/test/support/test-app';
import { adminToken, call, newCustomer, type TestCustomer } from '../../order/test/support/tokens';
import type { PaymentService } from '../src/domain/payment-service';
import { ledgerOf, paymentsOverState, watchPaymentEvents } from './support';

const charge = (orderId: string, paymentToken: string, amount = 2500) => ({
  orderId,
  amount,
  currency: 'USD',
  paymentToken,
});

describe("payment commands against payment's Dapr state store and outbox", () => {
  let payments: PaymentService;
  let probe: TestApp;
  let settledTopics: (orderId: string, count: number) => Promise<string[]>;
  const chargesOf = async (orderId: string) => payments.paymentsOf(orderId, { userId: 'admin', admin: true });

  beforeAll(async () => {
    payments = paymentsOverState();
    ({ probe, settledTopics } = await watchPaymentEvents());
  });

  afterAll(async () => {
    await probe?.stop();
  });

  it.each([
    ['tok_visa', 'succeeded', 'payment_success'],
    ['tok_chargeDeclined', 'declined', 'payment_failed'],
    ['tok_chargeDeclinedInsufficientFunds', 'insufficient_funds', 'payment_failed'],
    ['tok_processingError', 'provider_error', 'payment_failed'],
  ])('charges with %s → %s and records %s with it', async (token, outcome, topic) => {
    const orderId = randomUUID();
    await expect(payments.charge(charge(orderId, token))).resolves.toMatchObject({ outcome });
    expect(await settledTopics(orderId, 1)).toEqual([topic]);
  });

  it('20 concurrent duplicate charge commands make one charge and one event', async () => {
    const orderId = randomUUID();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => payments.charge(charge(orderId, 'tok_visa'))),
    );
    expect(new Set(outcomes.map((o) => JSON.stringify(o))).size).toBe(1);
    expect(outcomes[0]?.outcome).toBe('succeeded');
    expect(await chargesOf(orderId)).toHaveLength(1);
    expect(await settledTopics(orderId, 1)).toEqual(['payment_success']);
  });

  it('a retry after a decline answers the recorded decline without charging again', async () => {
    const orderId = randomUUID();
    const first = await payments.charge(charge(orderId, 'tok_chargeDeclined'));
    const retry = await payments.charge(charge(orderId, 'tok_visa'));
    expect(retry).toEqual(first);
    expect(await settledTopics(orderId, 1)).toEqual(['payment_failed']);
  });

  it('refuses a charge for another amount or currency than the one recorded under the order id, writing nothing', async () => {
    const orderId = randomUUID();
    // Someone charges 1 cent under the order id before the saga charges the real total.
    const first = await payments.charge(charge(orderId, 'tok_visa', 1));
    expect(first).toMatchObject({ outcome: 'succeeded', amount: 1, currency: 'USD' });
    await expect(payments.charge(charge(orderId, 'tok_visa', 2000))).rejects.toMatchObject({
      kind: 'CONFLICT',
      fields: [{ field: 'amount' }],
    });
    await expect(
      payments.charge({ ...charge(orderId, 'tok_visa', 1), currency: 'EUR' }),
    ).rejects.toMatchObject({
      kind: 'CONFLICT',
      fields: [{ field: 'currency' }],
    });
    await expect(payments.charge(charge(orderId, 'tok_visa', 1))).resolves.toEqual(first);
    expect(await chargesOf(orderId)).toHaveLength(1);
    expect(await settledTopics(orderId, 1)).toEqual(['payment_success']);
  });

  it('refunds a charge once, however often compensation runs; a repeated charge takes nothing more', async () => {
    const orderId = randomUUID();
    const charged = await payments.charge(charge(orderId, 'tok_visa', 4200));
    if (charged.outcome !== 'succeeded') throw new Error('charge should succeed');
    const refunds = await Promise.all([1, 2, 3].map(() => payments.refund(orderId, 'payment_compensation')));
    expect(new Set(refunds.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(refunds[0]).toMatchObject({ outcome: 'refunded', paymentId: charged.paymentId });
    await expect(payments.charge(charge(orderId, 'tok_visa', 4200))).resolves.toEqual(charged);
    expect(await settledTopics(orderId, 2)).toEqual(['payment_refunded', 'payment_success']);
    const [payment] = await chargesOf(orderId);
    expect(payment).toMatchObject({ status: 'REFUNDED', refund: { amount: 4200, currency: 'USD' } });
  });

  it('a refund that comes before the charge voids the order: the late charge is declined, nothing is taken', async () => {
    const orderId = randomUUID();
    await expect(payments.refund(orderId, 'deadline_exceeded')).resolves.toEqual({
      outcome: 'nothing_to_refund',
    });
    await expect(payments.charge(charge(orderId, 'tok_visa'))).resolves.toEqual({
      outcome: 'declined',
      reason: 'order voided',
    });
    const list = await chargesOf(orderId);
    expect(list.map((p) => p.status)).toEqual(['DECLINED']);
    expect(await settledTopics(orderId, 1)).toEqual(['payment_failed']);
  });

  it('a charge racing its refund ends refunded or declined, never charged and kept', async () => {
    for (let i = 0; i < 10; i += 1) {
      const orderId = randomUUID();
      await Promise.all([payments.charge(charge(orderId, 'tok_visa')), payments.refund(orderId, 'cancel')]);
      const statuses = (await chargesOf(orderId)).map((p) => p.status);
      expect(statuses).toHaveLength(1);
      expect(['REFUNDED', 'DECLINED']).toContain(statuses[0]);
    }
  });
});

describe('GET /payments through Dapr', () => {
  let payments: PaymentService;
  let owner: TestCustomer;
  let other: TestCustomer;
  let admin: string;

  beforeAll(async () => {
    payments = paymentsOverState();
    [owner, other, admin] = await Promise.all([newCustomer(), newCustomer(), adminToken()]);
  });

  it('shows an order payments to its customer and admins only; to anyone else it does not exist', async () => {
    const orderId = randomUUID();
    await payments.charge({ ...charge(orderId, 'tok_visa'), customerId: owner.userId });
    const mine = await call<{ items: { status: string; orderId: string }[] }>(
      'payment',
      'GET',
      `/payments?orderId=${orderId}`,
      {
        token: owner.token,
      },
    );
    expect(mine.status).toBe(200);
    expect(mine.body.items).toEqual([expect.objectContaining({ orderId, status: 'SUCCEEDED' })]);
    expect(mine.body.items[0]).not.toHaveProperty('providerRef');
    const asAdmin = await call<{ items: unknown[] }>('payment', 'GET', `/payments?orderId=${orderId}`, {
      token: admin,
    });
    expect(asAdmin.body.items).toHaveLength(1);
    const foreign = await call<{ detail: string }>('payment', 'GET', `/payments?orderId=${orderId}`, {
      token: other.token,
    });
    const unknownId = randomUUID();
    const unknown = await call<{ detail: string }>('payment', 'GET', `/payments?orderId=${unknownId}`, {
      token: other.token,
    });
    expect([foreign.status, unknown.status]).toEqual([404, 404]);
    expect(foreign.body.detail.replace(orderId, '<id>')).toBe(unknown.body.detail.replace(unknownId, '<id>'));
    expect((await call('payment', 'GET', `/payments?orderId=${orderId}`)).status).toBe(401);
  });

  it('404s an order it knows nothing of, and 400s a malformed order id', async () => {
    expect(
      (await call('payment', 'GET', `/payments?orderId=${randomUUID()}`, { token: owner.token })).status,
    ).toBe(404);
    const bad = await call<{ errors: { field: string }[] }>('payment', 'GET', '/payments?orderId=123', {
      token: owner.token,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e) => e.field)).toEqual(['orderId']);
  });

  it("shows a placed order's payment to its customer: the saga's charge names them", async () => {
    const placed = await call<{ orderId: string }>('order', 'POST', '/orders', {
      token: owner.token,
      body: { items: [{ sku: 'SKU-STICKER-PACK', quantity: 1 }], paymentMethod: { token: 'tok_visa' } },
    });
    expect(placed.status).toBe(202);
    const orderId = placed.body.orderId;
    const mine = await eventually(
      () =>
        call<{ items: { status: string }[] }>('payment', 'GET', `/payments?orderId=${orderId}`, {
          token: owner.token,
        }),
      (answer) => answer.status === 200 && answer.body.items.length === 1,
      { what: "the order's charge, as its customer sees it", timeoutMs: 30_000 },
    );
    expect(mine.body.items[0]).toMatchObject({ status: 'SUCCEEDED' });
    // The owner came with the saga's charge: payment no longer consumes order_created.
    expect((await ledgerOf(orderId)).charge?.customerId).toBe(owner.userId);
    expect(
      (await call('payment', 'GET', `/payments?orderId=${orderId}`, { token: other.token })).status,
    ).toBe(404);
  });
});
