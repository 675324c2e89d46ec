import { AppError, traceHeaders } from '@ecom/shared';
import type { InventoryPort, OrderPort, PaymentPort } from '../domain/participants';
import type { SagaDecision } from '../domain/saga';
import type { SagaLog } from '../domain/saga-log';
import { createActivities, type SagaClients } from './activities';

/**
 * A saga log that records what the activities write, and how many statements they cost (`writes`);
 * `decide` keeps the first decision, as the table does.
 */
function recordingLog() {
  const events: string[] = [];
  let decided: SagaDecision | undefined;
  let writes = 0;
  const write = (...lines: string[]) => {
    writes += 1;
    events.push(...lines);
    return Promise.resolve();
  };
  const log: SagaLog = {
    open: () => Promise.resolve(undefined),
    requestCancel: () => Promise.resolve(undefined),
    isCancelRequested: () => Promise.resolve(false),
    stepStarted: (_o, step) => write(`start ${step}`),
    stepRetrying: (_o, step) => write(`retry ${step}`),
    stepEnded: (_o, step, status, _detail, then) =>
      write(
        `end ${step} ${status}`,
        ...(then === undefined ? [] : ['start' in then ? `start ${then.start}` : `saga ${then.sagaStatus}`]),
      ),
    setStatus: (_o, status, reason) => write(`saga ${status} ${reason ?? ''}`.trim()),
    decide: async (_o, decision, thenStart) => {
      decided ??= decision;
      await write(
        `decide ${decision}: ${decided}`,
        ...(thenStart !== undefined && decided === decision ? [`start ${thenStart}`] : []),
      );
      return decided;
    },
    get: () => Promise.resolve(undefined),
    list: () => Promise.resolve({ items: [], nextCursor: null }),
  };
  return { log, events, writes: () => writes };
}

const orderId = '6f1c1d2e-0000-4000-8000-000000000002';
const inventory: InventoryPort = {
  reserve: () => Promise.resolve({ outcome: 'failed', reason: 'insufficient_stock', shortfalls: [] }),
  commit: () => Promise.reject(AppError.conflict('reservation expired')),
  release: () => Promise.resolve({ outcome: 'released' }),
};
const payment: PaymentPort = {
  charge: () => Promise.reject(new AppError('UNAVAILABLE', 'payment: ERR_DIRECT_INVOKE')),
  refund: () => Promise.resolve({ outcome: 'nothing_to_refund' }),
};
const order: OrderPort = { markPaid: () => Promise.resolve(), markCancelled: () => Promise.resolve() };

/** The forward activities' command, and participants that hold its stock, commit it and charge `amount`. */
const items = [{ sku: 'sku-1', quantity: 2 }];
const command = {
  orderId,
  reserve: { orderId, items, ttlSeconds: 30 },
  charge: { orderId, customerId: 'c', amount: 1_000, currency: 'USD', paymentToken: 'tok_visa' },
};
const holding: InventoryPort = {
  ...inventory,
  reserve: () => Promise.resolve({ outcome: 'reserved', expiresAt: '2026-01-01T00:00:30Z', items }),
  commit: () => Promise.resolve(),
};
const charging = (amount: number): PaymentPort => ({
  ...payment,
  charge: () => Promise.resolve({ outcome: 'succeeded', paymentId: 'p-1', amount, currency: 'USD' }),
});
/** The activities over participants that say yes to the whole forward path, unless `parts` differ. */
const willing = (sagaLog: SagaLog, parts: Partial<SagaClients> = {}) =>
  createActivities({ inventory: holding, payment: charging(1_000), order, sagaLog, ...parts });

describe('saga activities', () => {
  it("calls the participant in the order's trace, which the workflow hands to every activity", async () => {
    const { log } = recordingLog();
    const seen: Record<string, string>[] = [];
    const tracing: OrderPort = {
      markPaid: () => Promise.resolve(void seen.push(traceHeaders())),
      markCancelled: () => Promise.resolve(),
    };
    const activities = createActivities({ inventory, payment, order: tracing, sagaLog: log });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await activities.mark_paid(undefined, { orderId, trace: { traceparent } });
    await activities.mark_paid(undefined, { orderId });
    expect(seen).toEqual([{ traceparent }, {}]);
  });

  it('answers a participant that is down with "retry" and keeps the step running', async () => {
    const { log, events } = recordingLog();
    const activities = createActivities({ inventory, payment, order, sagaLog: log });
    const result = await activities.charge_payment(undefined, {
      orderId,
      customerId: 'c',
      amount: 1,
      currency: 'USD',
      paymentToken: 'tok_visa',
    });
    expect(result).toEqual({ status: 'retry', error: 'payment: ERR_DIRECT_INVOKE' });
    expect(events).toEqual(['start charge_payment', 'retry charge_payment']);
  });

  it('answers a definitive refusal with "rejected" and ends the step FAILED', async () => {
    const { log, events } = recordingLog();
    const activities = createActivities({ inventory, payment, order, sagaLog: log });
    expect(await activities.commit_stock(undefined, { orderId })).toEqual({
      status: 'rejected',
      kind: 'CONFLICT',
      error: 'reservation expired',
    });
    expect(events).toEqual(['start commit_stock', 'end commit_stock FAILED']);
  });

  describe('reserve_and_charge (reserve, then charge when the stock is held, in one activity)', () => {
    it('reserves, then charges, logging both steps under their own names', async () => {
      const { log, events } = recordingLog();
      const activities = willing(log);
      expect(await activities.reserve_and_charge(undefined, command)).toEqual({
        status: 'ok',
        value: {
          reserve: { status: 'ok', value: expect.objectContaining({ outcome: 'reserved' }) },
          charge: { status: 'ok', value: expect.objectContaining({ outcome: 'succeeded' }) },
        },
      });
      expect(events).toEqual([
        'start reserve_stock',
        'end reserve_stock COMPLETED',
        'start charge_payment',
        'end charge_payment COMPLETED',
      ]);
    });

    it('sends payment nothing when the reservation does not hold', async () => {
      const short: InventoryPort['reserve'] = () =>
        Promise.resolve({ outcome: 'failed', reason: 'insufficient_stock', shortfalls: [] });
      const others: InventoryPort['reserve'] = () =>
        Promise.resolve({ outcome: 'reserved', expiresAt: '2026-01-01T00:00:30Z', items: [] });
      for (const reserve of [short, others]) {
        const { log, events } = recordingLog();
        const charge = jest.fn(() => Promise.resolve({ outcome: 'declined' as const }));
        const activities = createActivities({
          inventory: { ...inventory, reserve },
          payment: { ...charging(1_000), charge },
          order,
          sagaLog: log,
        });
        const result = await activities.reserve_and_charge(undefined, command);
        expect(result).toMatchObject({ status: 'ok', value: { reserve: { status: 'ok' } } });
        expect(result.status === 'ok' && result.value.charge).toBeUndefined();
        expect(charge).not.toHaveBeenCalled();
        expect(events).toEqual(['start reserve_stock', 'end reserve_stock FAILED']);
      }
    });

    it('is a retry as a whole while payment is down, the reservation already held', async () => {
      const { log, events } = recordingLog();
      const activities = willing(log, { payment });
      expect(await activities.reserve_and_charge(undefined, command)).toEqual({
        status: 'retry',
        error: 'payment: ERR_DIRECT_INVOKE',
      });
      expect(events).toEqual([
        'start reserve_stock',
        'end reserve_stock COMPLETED',
        'start charge_payment',
        'retry charge_payment',
      ]);
    });
  });

  describe('reserve_charge_confirm (version 4: reserve, charge and confirm in one activity)', () => {
    it('settles the saga on the sale before it commits, then marks the order paid, in 6 log writes', async () => {
      const { log, events, writes } = recordingLog();
      const activities = willing(log);
      expect(await activities.reserve_charge_confirm(undefined, command)).toMatchObject({
        status: 'ok',
        value: { reserve: { status: 'ok' }, charge: { status: 'ok' }, confirm: { outcome: 'paid' } },
      });
      expect(events).toEqual([
        'start reserve_stock',
        'end reserve_stock COMPLETED',
        'start charge_payment',
        'end charge_payment COMPLETED',
        'decide confirm: confirm',
        'start commit_stock',
        'end commit_stock COMPLETED',
        'start mark_paid',
        'end mark_paid COMPLETED',
        'saga COMPLETED',
      ]);
      // Each step's end starts the next (the settlement starts the commit), and completes the saga.
      expect(writes()).toBe(6);
    });

    it('commits nothing once the workflow settled on compensation', async () => {
      const { log, events } = recordingLog();
      await log.decide(orderId, 'compensate');
      const commit = jest.fn(() => Promise.resolve());
      const markPaid = jest.fn(() => Promise.resolve());
      const activities = willing(log, { inventory: { ...holding, commit }, order: { ...order, markPaid } });
      expect(await activities.reserve_charge_confirm(undefined, command)).toMatchObject({
        status: 'ok',
        value: { charge: { status: 'ok' }, confirm: { outcome: 'compensating' } },
      });
      expect(commit).not.toHaveBeenCalled();
      expect(markPaid).not.toHaveBeenCalled();
      expect(events).toContain('decide confirm: compensate');
      expect(events).not.toContain('start commit_stock');
    });

    it('neither settles nor confirms a charge that does not stand: declined, or not for the total', async () => {
      const declined: PaymentPort = {
        ...payment,
        charge: () => Promise.resolve({ outcome: 'declined', reason: 'card_declined' }),
      };
      for (const paying of [declined, charging(999)]) {
        const { log, events } = recordingLog();
        const commit = jest.fn(() => Promise.resolve());
        const activities = willing(log, { inventory: { ...holding, commit }, payment: paying });
        const result = await activities.reserve_charge_confirm(undefined, command);
        expect(result).toMatchObject({ status: 'ok', value: { charge: { status: 'ok' } } });
        expect(result.status === 'ok' && result.value.confirm).toBeUndefined();
        expect(commit).not.toHaveBeenCalled();
        expect(events.filter((e) => e.startsWith('decide'))).toEqual([]);
      }
    });

    it('says the confirmation is pending when a participant is down after the sale was settled', async () => {
      const { log, events } = recordingLog();
      const down = () => Promise.reject(new AppError('UNAVAILABLE', 'ERR_DIRECT_INVOKE'));
      const activities = willing(log, { order: { ...order, markPaid: down } });
      expect(await activities.reserve_charge_confirm(undefined, command)).toMatchObject({
        status: 'ok',
        value: { confirm: { outcome: 'pending' } },
      });
      expect(events).toContain('decide confirm: confirm');
    });

    it('passes a refused commit on, so the workflow compensates (the reservation expired)', async () => {
      const { log } = recordingLog();
      const expired = () => Promise.reject(AppError.conflict('reservation expired'));
      const activities = willing(log, { inventory: { ...holding, commit: expired } });
      expect(await activities.reserve_charge_confirm(undefined, command)).toMatchObject({
        status: 'ok',
        value: { confirm: { outcome: 'commit_refused', kind: 'CONFLICT' } },
      });
    });
  });

  describe("reserve_charge_confirm with version 5's step deadline in its input", () => {
    afterEach(() => jest.restoreAllMocks());
    const within = (ms: number) => ({ ...command, deadline: new Date(Date.now() + ms).toISOString() });

    it('gives each participant call the deadline, and pays as version 4 does before it', async () => {
      const { log, events } = recordingLog();
      const reserve = jest.fn((...args: Parameters<InventoryPort['reserve']>) => holding.reserve(...args));
      const charge = jest.fn((...args: Parameters<PaymentPort['charge']>) => charging(1_000).charge(...args));
      const activities = willing(log, {
        inventory: { ...holding, reserve },
        payment: { ...payment, charge },
      });
      const bounded = within(60_000);
      expect(await activities.reserve_charge_confirm(undefined, bounded)).toMatchObject({
        status: 'ok',
        value: { confirm: { outcome: 'paid' } },
      });
      expect(reserve).toHaveBeenCalledWith(orderId, items, 30, new Date(bounded.deadline));
      expect(charge).toHaveBeenCalledWith(
        expect.objectContaining({ amount: 1_000 }),
        new Date(bounded.deadline),
      );
      expect(events).toContain('saga COMPLETED');
    });

    it('answers retry at once, calling no participant and writing nothing, once the deadline has passed', async () => {
      const { log, writes } = recordingLog();
      const reserve = jest.fn((...args: Parameters<InventoryPort['reserve']>) => holding.reserve(...args));
      const activities = willing(log, { inventory: { ...holding, reserve } });
      expect(await activities.reserve_charge_confirm(undefined, within(-1))).toMatchObject({
        status: 'retry',
        error: expect.stringContaining('deadline') as unknown,
      });
      expect(reserve).not.toHaveBeenCalled();
      expect(writes()).toBe(0);
    });

    it('does not settle on the sale when the deadline passed during the charge: the workflow refunds', async () => {
      const { log, events } = recordingLog();
      const bounded = within(60_000);
      const commit = jest.fn(() => Promise.resolve());
      const slow: PaymentPort = {
        ...payment,
        charge: () => {
          // The charge answers just after the deadline.
          jest.spyOn(Date, 'now').mockReturnValue(Date.parse(bounded.deadline) + 1);
          return charging(1_000).charge({ orderId, amount: 1_000, currency: 'USD', paymentToken: 't' });
        },
      };
      const activities = willing(log, { inventory: { ...holding, commit }, payment: slow });
      expect(await activities.reserve_charge_confirm(undefined, bounded)).toMatchObject({ status: 'retry' });
      expect(events).toContain('end charge_payment COMPLETED');
      expect(events.filter((e) => e.startsWith('decide'))).toEqual([]);
      expect(commit).not.toHaveBeenCalled();
    });
  });

  it('decide answers the decision the saga log settled first', async () => {
    const { log } = recordingLog();
    const activities = createActivities({ inventory, payment, order, sagaLog: log });
    expect(await activities.decide(undefined, { orderId, decision: 'confirm' })).toEqual({
      status: 'ok',
      value: 'confirm',
    });
    expect(await activities.decide(undefined, { orderId, decision: 'compensate' })).toEqual({
      status: 'ok',
      value: 'confirm',
    });
  });

  describe('confirm_order (commit, then mark paid, in one activity)', () => {
    const committing: InventoryPort = { ...inventory, commit: () => Promise.resolve() };

    it('commits and marks paid, logging both steps under their own names', async () => {
      const { log, events, writes } = recordingLog();
      const activities = createActivities({ inventory: committing, payment, order, sagaLog: log });
      expect(await activities.confirm_order(undefined, { orderId })).toEqual({
        status: 'ok',
        value: { outcome: 'paid' },
      });
      expect(events).toEqual([
        'start commit_stock',
        'end commit_stock COMPLETED',
        'start mark_paid',
        'end mark_paid COMPLETED',
        'saga COMPLETED',
      ]);
      expect(writes()).toBe(3);
    });

    it('never marks paid when the commit is refused, and says so', async () => {
      const { log, events } = recordingLog();
      const markPaid = jest.fn(() => Promise.resolve());
      const activities = createActivities({
        inventory,
        payment,
        order: { ...order, markPaid },
        sagaLog: log,
      });
      expect(await activities.confirm_order(undefined, { orderId })).toEqual({
        status: 'ok',
        value: { outcome: 'commit_refused', error: 'reservation expired', kind: 'CONFLICT' },
      });
      expect(markPaid).not.toHaveBeenCalled();
      expect(events).toEqual(['start commit_stock', 'end commit_stock FAILED']);
    });

    it('says the order refused to be marked paid after the stock was committed', async () => {
      const { log } = recordingLog();
      const refusing: OrderPort = {
        ...order,
        markPaid: () => Promise.reject(AppError.conflict('order is CANCELLED')),
      };
      const activities = createActivities({ inventory: committing, payment, order: refusing, sagaLog: log });
      expect(await activities.confirm_order(undefined, { orderId })).toMatchObject({
        status: 'ok',
        value: { outcome: 'paid_refused', error: 'order is CANCELLED' },
      });
    });

    it('answers "retry" when either participant is down, so the workflow sends both again', async () => {
      const { log } = recordingLog();
      const down = () => Promise.reject(new AppError('UNAVAILABLE', 'ERR_DIRECT_INVOKE'));
      const unreachable = createActivities({
        inventory: { ...inventory, commit: down },
        payment,
        order,
        sagaLog: log,
      });
      expect(await unreachable.confirm_order(undefined, { orderId })).toMatchObject({ status: 'retry' });
      const orderDown = createActivities({
        inventory: committing,
        payment,
        order: { ...order, markPaid: down },
        sagaLog: log,
      });
      expect(await orderDown.confirm_order(undefined, { orderId })).toMatchObject({ status: 'retry' });
    });
  });

  it('passes a negative outcome through and marks the step FAILED', async () => {
    const { log, events } = recordingLog();
    const activities = createActivities({ inventory, payment, order, sagaLog: log });
    const result = await activities.reserve_stock(undefined, {
      orderId,
      items: [{ sku: 'a', quantity: 1 }],
      ttlSeconds: 30,
    });
    expect(result).toMatchObject({ status: 'ok', value: { outcome: 'failed' } });
    expect(events).toEqual(['start reserve_stock', 'end reserve_stock FAILED']);
  });

  it('moves the saga to COMPENSATING and then COMPENSATED with the reason', async () => {
    const { log, events } = recordingLog();
    const activities = createActivities({ inventory, payment, order, sagaLog: log });
    await activities.release_stock(undefined, { orderId, reason: 'payment_declined' });
    await activities.mark_cancelled(undefined, { orderId, reason: 'payment_declined' });
    expect(events.filter((e) => e.startsWith('saga'))).toEqual([
      'saga COMPENSATING payment_declined',
      'saga COMPENSATING payment_declined',
      'saga COMPENSATED payment_declined',
    ]);
  });

  it('ends a charge FAILED, naming the mismatch, when it was not for the order total', async () => {
    const steps: { step: string; status: string; detail: Record<string, unknown> }[] = [];
    const { log } = recordingLog();
    log.stepEnded = (_o, step, status, detail) => Promise.resolve(void steps.push({ step, status, detail }));
    const underpaid: PaymentPort = {
      ...payment,
      charge: () => Promise.resolve({ outcome: 'succeeded', paymentId: 'p', amount: 1, currency: 'USD' }),
    };
    const activities = createActivities({ inventory, payment: underpaid, order, sagaLog: log });
    const result = await activities.charge_payment(undefined, {
      orderId,
      customerId: 'c',
      amount: 2_000,
      currency: 'USD',
      paymentToken: 'tok_visa',
    });
    expect(result).toMatchObject({ status: 'ok', value: { outcome: 'succeeded', amount: 1 } });
    expect(steps).toEqual([
      {
        step: 'charge_payment',
        status: 'FAILED',
        detail: expect.objectContaining({ mismatch: 'charged 1 USD, the order is 2000 USD' }) as unknown,
      },
    ]);
  });

  it('ends a reservation FAILED when it does not say which lines it holds', async () => {
    const steps: { status: string; detail: Record<string, unknown> }[] = [];
    const { log } = recordingLog();
    log.stepEnded = (_o, _step, status, detail) => Promise.resolve(void steps.push({ status, detail }));
    const silent: InventoryPort = {
      ...inventory,
      reserve: () => Promise.resolve({ outcome: 'reserved', expiresAt: 'x' }),
    };
    const activities = createActivities({ inventory: silent, payment, order, sagaLog: log });
    await activities.reserve_stock(undefined, {
      orderId,
      items: [{ sku: 'a', quantity: 1 }],
      ttlSeconds: 30,
    });
    expect(steps).toEqual([
      {
        status: 'FAILED',
        detail: expect.objectContaining({
          mismatch: 'the reservation does not say which lines it holds',
        }) as unknown,
      },
    ]);
  });

  it('ends a reservation COMPLETED when it holds the order lines, split or in another order', async () => {
    const { log, events } = recordingLog();
    const sameLines: InventoryPort = {
      ...inventory,
      reserve: () =>
        Promise.resolve({
          outcome: 'reserved',
          expiresAt: 'x',
          items: [
            { sku: 'a', quantity: 3 },
            { sku: 'b', quantity: 1 },
          ],
        }),
    };
    const activities = createActivities({ inventory: sameLines, payment, order, sagaLog: log });
    await activities.reserve_stock(undefined, {
      orderId,
      items: [
        { sku: 'b', quantity: 1 },
        { sku: 'a', quantity: 1 },
        { sku: 'a', quantity: 2 },
      ],
      ttlSeconds: 30,
    });
    expect(events).toEqual(['start reserve_stock', 'end reserve_stock COMPLETED']);
  });

  it('ends a reservation FAILED when it holds other lines than the order', async () => {
    const { log, events } = recordingLog();
    const wrongLines: InventoryPort = {
      ...inventory,
      reserve: () =>
        Promise.resolve({ outcome: 'reserved', expiresAt: 'x', items: [{ sku: 'a', quantity: 1 }] }),
    };
    const activities = createActivities({ inventory: wrongLines, payment, order, sagaLog: log });
    await activities.reserve_stock(undefined, {
      orderId,
      items: [{ sku: 'a', quantity: 5 }],
      ttlSeconds: 30,
    });
    expect(events).toEqual(['start reserve_stock', 'end reserve_stock FAILED']);
  });
});
