import type { Task, WorkflowContext } from '@dapr/dapr';
import { CompletableTask } from '@dapr/dapr/workflow/internal/durabletask/task/completable-task';
import { WhenAnyTask } from '@dapr/dapr/workflow/internal/durabletask/task/when-any-task';
import { chargeStands, reservationHolds } from '../domain/outcome-checks';
import type { ChargeOutcome, ReserveOutcome } from '../domain/participants';
import type { OrderSagaInput, OrderSagaResult } from '../domain/saga';
import type { ActivityResult } from './names';
import { orderSagaWorkflow } from './order-saga-workflow';

const PENDING = Symbol('pending');
type Script = (
  name: string,
  input: Record<string, unknown>,
  attempt: number,
) => ActivityResult<unknown> | typeof PENDING;

/**
 * A deterministic stand-in for the Dapr workflow runtime: activities answer
 * from a script at once (or never), timers fire in time order when nothing
 * else can move, and the clock only moves when a timer fires.
 */
class FakeRuntime {
  now = new Date('2026-01-01T00:00:00Z');
  readonly calls: { name: string; input: Record<string, unknown> }[] = [];
  readonly cancel = new CompletableTask<unknown>();
  private readonly timers: { at: number; task: CompletableTask<unknown> }[] = [];
  private readonly attempts = new Map<string, number>();

  constructor(private readonly script: Script) {}

  context(): WorkflowContext {
    const context = {
      getCurrentUtcDateTime: () => this.now,
      callActivity: (name: string, input: Record<string, unknown>) => this.callActivity(name, input),
      createTimer: (at: Date) => {
        const task = new CompletableTask<unknown>();
        this.timers.push({ at: at.getTime(), task });
        return task;
      },
      waitForExternalEvent: () => this.cancel,
      whenAny: (tasks: Task<unknown>[]) => new WhenAnyTask(tasks),
    };
    return context as unknown as WorkflowContext;
  }

  names(): string[] {
    return this.calls.map((c) => c.name);
  }

  /** How many durable timers the workflow asked for: each is a Scheduler job in Dapr. */
  timersCreated(): number {
    return this.timers.length;
  }

  async run(input: OrderSagaInput): Promise<OrderSagaResult> {
    const workflow = orderSagaWorkflow(this.context(), input);
    let step = await workflow.next();
    while (!step.done) {
      const task = step.value;
      while (!task.isComplete) this.fireNextTimer();
      step = task.isFailed
        ? await workflow.throw(task.getException())
        : await workflow.next(task.getResult());
    }
    return step.value;
  }

  private callActivity(name: string, input: Record<string, unknown>): CompletableTask<unknown> {
    const attempt = (this.attempts.get(name) ?? 0) + 1;
    this.attempts.set(name, attempt);
    this.calls.push({ name, input });
    const task = new CompletableTask<unknown>();
    const answer = this.script(name, input, attempt);
    if (answer !== PENDING) task.complete(answer);
    return task;
  }

  private fireNextTimer(): void {
    const pending = this.timers.filter((t) => !t.task.isComplete).sort((a, b) => a.at - b.at);
    const next = pending[0];
    if (!next) throw new Error(`workflow is stuck; calls so far: ${this.names().join(', ')}`);
    this.now = new Date(Math.max(this.now.getTime(), next.at));
    next.task.complete(undefined);
  }
}

const ok = (value: unknown): ActivityResult<unknown> => ({ status: 'ok', value });
const retry: ActivityResult<unknown> = { status: 'retry', error: 'payment unavailable' };

/** Participants that all say yes, unless a scenario overrides one activity. */
function participants(overrides: Partial<Record<string, Script>> = {}): Script {
  const defaults: Record<string, ActivityResult<unknown>> = {
    reserve_stock: ok({
      outcome: 'reserved',
      expiresAt: '2026-01-01T00:00:30Z',
      items: [{ sku: 'sku-1', quantity: 2 }],
    }),
    charge_payment: ok({ outcome: 'succeeded', paymentId: 'p-1', amount: 1_000, currency: 'USD' }),
    refund_payment: ok({ outcome: 'nothing_to_refund' }),
    release_stock: ok({ outcome: 'released' }),
    confirm_order: ok({ outcome: 'paid' }),
  };
  return (name, input, attempt) => overrides[name]?.(name, input, attempt) ?? defaults[name] ?? ok(null);
}

/**
 * reserve_and_charge as its activity runs it, from the scenario's own answers for the two steps: the
 * reservation's, then the charge's when the reservation holds; either one's `retry` (or silence) is
 * the whole activity's.
 */
function inOne(script: Script): Script {
  return (name, input, attempt) => {
    if (name !== 'reserve_and_charge') return script(name, input, attempt);
    const command = input as { reserve: { items: { sku: string; quantity: number }[] }; charge: object };
    const reserve = script('reserve_stock', command.reserve, attempt);
    if (reserve === PENDING || reserve.status === 'retry') return reserve;
    if (
      reserve.status === 'rejected' ||
      !reservationHolds(command.reserve.items, reserve.value as ReserveOutcome)
    ) {
      return ok({ reserve });
    }
    const charge = script('charge_payment', { ...command.charge }, attempt);
    if (charge === PENDING || charge.status === 'retry') return charge;
    return ok({ reserve, charge });
  };
}

/**
 * reserve_charge_confirm and decide as their activities run them (and reserve_and_charge, as
 * `inOne` does): reserve_and_charge from the scenario's answers, then, when the charge stands, the saga log's one decision (the first asked
 * wins) and the scenario's confirm_order answer (`retry` reads as `pending`).
 */
function settling(script: Script): Script {
  let decided: string | undefined;
  const decide = (decision: string) => (decided ??= decision);
  const forward = inOne(script);
  return (name, input, attempt) => {
    if (name === 'decide') return ok(decide(String(input.decision)));
    if (name !== 'reserve_charge_confirm') return forward(name, input, attempt);
    const answer = forward('reserve_and_charge', input, attempt);
    if (answer === PENDING || answer.status !== 'ok') return answer;
    const value = answer.value as { charge?: ActivityResult<ChargeOutcome> };
    const command = input as { charge: { amount: number; currency: string } };
    const charge = value.charge;
    if (charge?.status !== 'ok' || !chargeStands(command.charge, charge.value)) return answer;
    if (decide('confirm') === 'compensate') return ok({ ...value, confirm: { outcome: 'compensating' } });
    const confirmed = script('confirm_order', { orderId: input.orderId }, attempt);
    if (confirmed === PENDING) return PENDING;
    return ok({ ...value, confirm: confirmed.status === 'ok' ? confirmed.value : { outcome: 'pending' } });
  };
}

/**
 * What follows when a version 4 or 5 workflow stops waiting for its forward activity (the deadline or
 * the customer's cancel): it settles on the refund, notes both steps, and compensates.
 */
const stoppedWaiting = [
  'decide',
  'record_step',
  'record_step',
  'refund_payment',
  'release_stock',
  'mark_cancelled',
];

/** A version 1 instance: started before confirm_order existed, it replays commit_stock then mark_paid. */
function sagaInput(deadlineInMs = 60_000): OrderSagaInput {
  return {
    orderId: '6f1c1d2e-0000-4000-8000-000000000001',
    customerId: 'customer-1',
    items: [{ sku: 'sku-1', quantity: 2, unitPrice: 500 }],
    total: 1_000,
    currency: 'USD',
    paymentToken: 'tok_visa',
    deadline: new Date(Date.parse('2026-01-01T00:00:00Z') + deadlineInMs).toISOString(),
    policy: { stepTimeoutMs: 15_000, retryInitialMs: 250, retryMaxMs: 2_000, reservationTtlSeconds: 30 },
  };
}

describe('orderSagaWorkflow', () => {
  it('reserves, charges, commits and marks the order paid', async () => {
    const runtime = new FakeRuntime(participants());
    await expect(runtime.run(sagaInput())).resolves.toEqual({ status: 'COMPLETED' });
    expect(runtime.names()).toEqual(['reserve_stock', 'charge_payment', 'commit_stock', 'mark_paid']);
    expect(runtime.calls[0]?.input).toEqual({
      orderId: sagaInput().orderId,
      items: [{ sku: 'sku-1', quantity: 2 }],
      ttlSeconds: 30,
    });
    expect(runtime.calls[1]?.input).toMatchObject({
      amount: 1_000,
      currency: 'USD',
      paymentToken: 'tok_visa',
    });
  });

  it('cancels without charging when stock is short, releasing only what it tried to reserve', async () => {
    const runtime = new FakeRuntime(
      participants({ reserve_stock: () => ok({ outcome: 'failed', shortfalls: [] }) }),
    );
    await expect(runtime.run(sagaInput())).resolves.toEqual({
      status: 'COMPENSATED',
      reason: 'insufficient_stock',
    });
    expect(runtime.names()).toEqual(['reserve_stock', 'release_stock', 'mark_cancelled']);
  });

  it('compensates a declined charge in reverse order', async () => {
    const runtime = new FakeRuntime(
      participants({ charge_payment: () => ok({ outcome: 'declined', reason: 'card declined' }) }),
    );
    await expect(runtime.run(sagaInput())).resolves.toEqual({
      status: 'COMPENSATED',
      reason: 'payment_declined',
    });
    expect(runtime.names()).toEqual([
      'reserve_stock',
      'charge_payment',
      'refund_payment',
      'release_stock',
      'mark_cancelled',
    ]);
    expect(runtime.calls.at(-1)?.input).toEqual({ orderId: sagaInput().orderId, reason: 'payment_declined' });
  });

  it('treats a provider error as a failed payment', async () => {
    const runtime = new FakeRuntime(
      participants({ charge_payment: () => ok({ outcome: 'provider_error' }) }),
    );
    await expect(runtime.run(sagaInput())).resolves.toEqual({
      status: 'COMPENSATED',
      reason: 'payment_failed',
    });
  });

  it('retries a participant that is down with growing back-off and goes on when it is back', async () => {
    const runtime = new FakeRuntime(
      participants({
        charge_payment: (_n, _i, attempt) =>
          attempt < 4
            ? retry
            : ok({ outcome: 'succeeded', paymentId: 'p-1', amount: 1_000, currency: 'USD' }),
      }),
    );
    await expect(runtime.run(sagaInput())).resolves.toEqual({ status: 'COMPLETED' });
    expect(runtime.names().filter((n) => n === 'charge_payment')).toHaveLength(4);
    // Three back-offs: 250 + 500 + 1000 ms of workflow time.
    expect(runtime.now.getTime() - Date.parse('2026-01-01T00:00:00Z')).toBe(1_750);
  });

  it('gives up a step at its deadline, records it, and compensates', async () => {
    const runtime = new FakeRuntime(participants({ charge_payment: () => retry }));
    await expect(runtime.run(sagaInput())).resolves.toEqual({
      status: 'COMPENSATED',
      reason: 'deadline_exceeded',
    });
    const charges = runtime.names().filter((n) => n === 'charge_payment').length;
    // 15 s of back-off capped at 2 s: a bounded number of attempts, not a hot loop.
    expect(charges).toBeGreaterThan(5);
    expect(charges).toBeLessThan(15);
    expect(runtime.names().slice(-4)).toEqual([
      'record_step',
      'refund_payment',
      'release_stock',
      'mark_cancelled',
    ]);
    expect(runtime.calls.find((c) => c.name === 'record_step')?.input).toMatchObject({
      step: 'charge_payment',
      status: 'TIMED_OUT',
    });
    expect(runtime.now.getTime() - Date.parse('2026-01-01T00:00:00Z')).toBe(15_000);
  });

  it('never waits past the order deadline, even inside a step', async () => {
    const runtime = new FakeRuntime(participants({ reserve_stock: () => PENDING }));
    await expect(runtime.run(sagaInput(4_000))).resolves.toEqual({
      status: 'COMPENSATED',
      reason: 'deadline_exceeded',
    });
    expect(runtime.now.getTime() - Date.parse('2026-01-01T00:00:00Z')).toBe(4_000);
    expect(runtime.names()).toEqual(['reserve_stock', 'record_step', 'release_stock', 'mark_cancelled']);
  });

  it('stops waiting for a charge when the customer cancels, and refunds what may have been charged', async () => {
    const runtime: FakeRuntime = new FakeRuntime(
      participants({
        charge_payment: () => {
          // The cancel arrives while the charge is in flight (called after construction).
          runtime.cancel.complete({ reason: 'customer_cancelled' });
          return PENDING;
        },
      }),
    );
    await expect(runtime.run(sagaInput())).resolves.toEqual({
      status: 'COMPENSATED',
      reason: 'customer_cancelled',
    });
    expect(runtime.names()).toEqual([
      'reserve_stock',
      'charge_payment',
      'record_step',
      'refund_payment',
      'release_stock',
      'mark_cancelled',
    ]);
    expect(runtime.calls[2]?.input).toMatchObject({ status: 'CANCELLED' });
  });

  it('does not start a step once the customer cancelled', async () => {
    const runtime = new FakeRuntime(participants());
    runtime.cancel.complete({ reason: 'customer_cancelled' });
    await expect(runtime.run(sagaInput())).resolves.toEqual({
      status: 'COMPENSATED',
      reason: 'customer_cancelled',
    });
    expect(runtime.names()).toEqual(['mark_cancelled']);
  });

  it('refunds and releases when the reservation expired before the commit', async () => {
    const runtime = new FakeRuntime(
      participants({ commit_stock: () => ({ status: 'rejected', error: 'reservation expired' }) }),
    );
    await expect(runtime.run(sagaInput())).resolves.toEqual({
      status: 'COMPENSATED',
      reason: 'reservation_expired',
    });
    expect(runtime.names().slice(2)).toEqual([
      'commit_stock',
      'refund_payment',
      'release_stock',
      'mark_cancelled',
    ]);
  });

  it('keeps retrying a compensation until the participant answers', async () => {
    const runtime = new FakeRuntime(
      participants({
        charge_payment: () => ok({ outcome: 'declined' }),
        refund_payment: (_n, _i, attempt) => (attempt < 20 ? retry : ok({ outcome: 'nothing_to_refund' })),
      }),
    );
    await expect(runtime.run(sagaInput())).resolves.toEqual({
      status: 'COMPENSATED',
      reason: 'payment_declined',
    });
    expect(runtime.names().filter((n) => n === 'refund_payment')).toHaveLength(20);
  });

  it('ends FAILED and refunds when the order refuses to be marked paid', async () => {
    const runtime = new FakeRuntime(
      participants({ mark_paid: () => ({ status: 'rejected', error: 'order is CANCELLED' }) }),
    );
    await expect(runtime.run(sagaInput())).resolves.toEqual({ status: 'FAILED', reason: 'saga_error' });
    expect(runtime.names().slice(-2)).toEqual(['refund_payment', 'record_saga']);
  });

  describe('checks what the participants answer against the order (defence in depth)', () => {
    const compensatedCharge = [
      'reserve_stock',
      'charge_payment',
      'refund_payment',
      'release_stock',
      'mark_cancelled',
    ];

    it('refunds, releases and cancels when the charge is for less than the order total', async () => {
      // A charge recorded earlier under this order id, for 1 cent: never PAID for 10.00.
      const runtime = new FakeRuntime(
        participants({
          charge_payment: () => ok({ outcome: 'succeeded', paymentId: 'p-1', amount: 1, currency: 'USD' }),
        }),
      );
      await expect(runtime.run(sagaInput())).resolves.toEqual({
        status: 'COMPENSATED',
        reason: 'payment_mismatch',
      });
      expect(runtime.names()).toEqual(compensatedCharge);
      expect(runtime.calls.at(-1)?.input).toEqual({
        orderId: sagaInput().orderId,
        reason: 'payment_mismatch',
      });
    });

    it('cancels a charge in another currency, or one that does not say what it charged', async () => {
      for (const charged of [
        { outcome: 'succeeded', paymentId: 'p-1', amount: 1_000, currency: 'JPY' },
        { outcome: 'succeeded', paymentId: 'p-1' },
      ]) {
        const runtime = new FakeRuntime(participants({ charge_payment: () => ok(charged) }));
        await expect(runtime.run(sagaInput())).resolves.toEqual({
          status: 'COMPENSATED',
          reason: 'payment_mismatch',
        });
        expect(runtime.names()).toEqual(compensatedCharge);
      }
    });

    it('cancels when payment refuses the charge as conflicting with an earlier one (409)', async () => {
      const runtime = new FakeRuntime(
        participants({
          charge_payment: () => ({
            status: 'rejected',
            kind: 'CONFLICT',
            error: 'amount differs from the charge recorded for this order',
          }),
        }),
      );
      await expect(runtime.run(sagaInput())).resolves.toEqual({
        status: 'COMPENSATED',
        reason: 'payment_mismatch',
      });
      expect(runtime.names()).toEqual(compensatedCharge);
    });

    it('releases and cancels without charging when the reservation holds other lines than the order', async () => {
      for (const items of [
        [{ sku: 'sku-1', quantity: 1 }],
        [{ sku: 'sku-2', quantity: 2 }],
        [
          { sku: 'sku-1', quantity: 2 },
          { sku: 'sku-9', quantity: 1 },
        ],
      ]) {
        const runtime = new FakeRuntime(
          participants({
            reserve_stock: () => ok({ outcome: 'reserved', expiresAt: '2026-01-01T00:00:30Z', items }),
          }),
        );
        await expect(runtime.run(sagaInput())).resolves.toEqual({
          status: 'COMPENSATED',
          reason: 'reservation_mismatch',
        });
        expect(runtime.names()).toEqual(['reserve_stock', 'release_stock', 'mark_cancelled']);
      }
    });

    it('releases and cancels when a reservation does not say which lines it holds', async () => {
      const runtime = new FakeRuntime(
        participants({
          reserve_stock: () => ok({ outcome: 'reserved', expiresAt: '2026-01-01T00:00:30Z' }),
        }),
      );
      await expect(runtime.run(sagaInput())).resolves.toEqual({
        status: 'COMPENSATED',
        reason: 'reservation_mismatch',
      });
      expect(runtime.names()).toEqual(['reserve_stock', 'release_stock', 'mark_cancelled']);
    });

    it('goes on when the reservation holds exactly the order lines', async () => {
      const runtime = new FakeRuntime(
        participants({
          reserve_stock: () =>
            ok({
              outcome: 'reserved',
              expiresAt: '2026-01-01T00:00:30Z',
              items: [{ sku: 'sku-1', quantity: 2 }],
            }),
        }),
      );
      await expect(runtime.run(sagaInput())).resolves.toEqual({ status: 'COMPLETED' });
    });
  });
  it('refuses to replay a version newer than it knows, before it runs any activity', async () => {
    const runtime = new FakeRuntime(participants());
    const newer = { ...sagaInput(), version: 6 } as unknown as OrderSagaInput;
    await expect(runtime.run(newer)).rejects.toThrow(/saga version 6 is newer than this replica knows \(5\)/);
    expect(runtime.names()).toEqual([]);
  });
  describe('version 4: one reserve_charge_confirm activity reserves, charges and confirms', () => {
    const v4 = (deadlineInMs?: number): OrderSagaInput => ({ ...sagaInput(deadlineInMs), version: 4 });
    const run = (overrides: Partial<Record<string, Script>> = {}, deadlineInMs?: number) => {
      const runtime = new FakeRuntime(settling(participants(overrides)));
      return { runtime, result: runtime.run(v4(deadlineInMs)) };
    };
    /** confirm_order inside the activity never answers; the workflow's own call to it does, with `then`. */
    const stuckInTheActivity = (then: ActivityResult<unknown> = ok({ outcome: 'paid' })): Script => {
      let calls = 0;
      return () => (++calls === 1 ? PENDING : then);
    };

    it('pays an order in one activity', async () => {
      const { runtime, result } = run();
      await expect(result).resolves.toEqual({ status: 'COMPLETED' });
      expect(runtime.names()).toEqual(['reserve_charge_confirm']);
      expect(runtime.calls[0]?.input).toMatchObject({
        reserve: { items: [{ sku: 'sku-1', quantity: 2 }], ttlSeconds: 30 },
        charge: { amount: 1_000, currency: 'USD', paymentToken: 'tok_visa' },
      });
    });

    it('releases when the reservation does not hold, and refunds too when the charge does not stand', async () => {
      for (const [overrides, reason, names] of [
        [{ reserve_stock: () => ok({ outcome: 'failed', shortfalls: [] }) }, 'insufficient_stock', []],
        [{ charge_payment: () => ok({ outcome: 'declined' }) }, 'payment_declined', ['refund_payment']],
        [
          { charge_payment: () => ok({ outcome: 'succeeded', amount: 1, currency: 'USD' }) },
          'payment_mismatch',
          ['refund_payment'],
        ],
      ] as const) {
        const { runtime, result } = run(overrides);
        await expect(result).resolves.toEqual({ status: 'COMPENSATED', reason });
        expect(runtime.names()).toEqual([
          'reserve_charge_confirm',
          ...names,
          'release_stock',
          'mark_cancelled',
        ]);
      }
    });

    it('refunds, releases and cancels when the commit is refused (the reservation expired)', async () => {
      const { runtime, result } = run({
        confirm_order: () => ok({ outcome: 'commit_refused', error: 'reservation expired' }),
      });
      await expect(result).resolves.toEqual({ status: 'COMPENSATED', reason: 'reservation_expired' });
      expect(runtime.names()).toEqual([
        'reserve_charge_confirm',
        'refund_payment',
        'release_stock',
        'mark_cancelled',
      ]);
    });

    it('ends FAILED and refunds when the order refuses to be marked paid', async () => {
      const { runtime, result } = run({
        confirm_order: () => ok({ outcome: 'paid_refused', error: 'order is CANCELLED' }),
      });
      await expect(result).resolves.toEqual({ status: 'FAILED', reason: 'saga_error' });
      expect(runtime.names()).toEqual(['reserve_charge_confirm', 'refund_payment', 'record_saga']);
    });

    it('confirms until the participants answer, past any deadline, once the sale is settled', async () => {
      const { runtime, result } = run(
        { confirm_order: (_n, _i, attempt) => (attempt < 30 ? retry : ok({ outcome: 'paid' })) },
        4_000,
      );
      await expect(result).resolves.toEqual({ status: 'COMPLETED' });
      expect(runtime.names()[0]).toBe('reserve_charge_confirm');
      expect(
        runtime
          .names()
          .slice(1)
          .every((n) => n === 'confirm_order'),
      ).toBe(true);
      expect(runtime.now.getTime() - Date.parse('2026-01-01T00:00:00Z')).toBeGreaterThan(4_000);
    });

    it('never refunds a sale being confirmed when the deadline passes mid-confirmation', async () => {
      const { runtime, result } = run({ confirm_order: stuckInTheActivity() }, 4_000);
      await expect(result).resolves.toEqual({ status: 'COMPLETED' });
      expect(runtime.names()).toEqual(['reserve_charge_confirm', 'decide', 'confirm_order']);
      expect(runtime.now.getTime() - Date.parse('2026-01-01T00:00:00Z')).toBe(4_000);
    });

    it('refunds a settled sale whose late confirmation is refused (the reservation expired meanwhile)', async () => {
      const { runtime, result } = run(
        {
          confirm_order: stuckInTheActivity(ok({ outcome: 'commit_refused', error: 'reservation expired' })),
        },
        4_000,
      );
      await expect(result).resolves.toEqual({ status: 'COMPENSATED', reason: 'reservation_expired' });
      expect(runtime.names()).toEqual([
        'reserve_charge_confirm',
        'decide',
        'confirm_order',
        'refund_payment',
        'release_stock',
        'mark_cancelled',
      ]);
    });

    it("ignores the customer's cancel once the sale is settled, and honours it before", async () => {
      const cancelling =
        (runtime: () => FakeRuntime, answer: Script): Script =>
        (n, i, a) => {
          if (!runtime().cancel.isComplete) runtime().cancel.complete({ reason: 'customer_cancelled' });
          return answer(n, i, a);
        };
      const late: FakeRuntime = new FakeRuntime(
        settling(participants({ confirm_order: cancelling(() => late, stuckInTheActivity()) })),
      );
      await expect(late.run(v4())).resolves.toEqual({ status: 'COMPLETED' });
      expect(late.names()).toEqual(['reserve_charge_confirm', 'decide', 'confirm_order']);

      const early: FakeRuntime = new FakeRuntime(
        settling(
          participants({
            charge_payment: cancelling(
              () => early,
              () => PENDING,
            ),
          }),
        ),
      );
      await expect(early.run(v4())).resolves.toEqual({ status: 'COMPENSATED', reason: 'customer_cancelled' });
      expect(early.names()).toEqual(['reserve_charge_confirm', ...stoppedWaiting]);
    });

    it('does not start once the customer cancelled', async () => {
      const runtime = new FakeRuntime(settling(participants()));
      runtime.cancel.complete({ reason: 'customer_cancelled' });
      await expect(runtime.run(v4())).resolves.toEqual({
        status: 'COMPENSATED',
        reason: 'customer_cancelled',
      });
      expect(runtime.names()).toEqual(['mark_cancelled']);
    });
  });

  describe('version 5: reserve_charge_confirm keeps the step deadline, and the workflow sets no timer', () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    const v5 = (deadlineInMs?: number): OrderSagaInput => ({ ...sagaInput(deadlineInMs), version: 5 });
    /** The runtime and a script that may move its clock, as an activity that takes time does. */
    const run = (
      overrides: (runtime: () => FakeRuntime) => Partial<Record<string, Script>>,
      deadlineInMs?: number,
    ) => {
      const runtime: FakeRuntime = new FakeRuntime(settling(participants(overrides(() => runtime))));
      return { runtime, result: runtime.run(v5(deadlineInMs)) };
    };

    it('pays an order in one activity without a single timer, the deadline in its input', async () => {
      for (const [deadlineInMs, deadline] of [
        [60_000, '2026-01-01T00:00:15.000Z'],
        [4_000, '2026-01-01T00:00:04.000Z'],
      ] as const) {
        const { runtime, result } = run(() => ({}), deadlineInMs);
        await expect(result).resolves.toEqual({ status: 'COMPLETED' });
        expect(runtime.names()).toEqual(['reserve_charge_confirm']);
        // The step's own timeout, or the order's deadline when that comes first.
        expect(runtime.calls[0]?.input).toMatchObject({ deadline });
        expect(runtime.timersCreated()).toBe(0);
      }
      // Version 4 keeps its timer: its instances in flight must replay the turns they took.
      const v4 = new FakeRuntime(settling(participants()));
      await expect(v4.run({ ...sagaInput(), version: 4 })).resolves.toEqual({ status: 'COMPLETED' });
      expect(v4.timersCreated()).toBe(1);
      expect(v4.calls[0]?.input).not.toHaveProperty('deadline');
    });

    it('stops waiting when the activity answers at its deadline, and compensates without a timer', async () => {
      // The charge hangs; the activity cut its call at the deadline and answered `retry`.
      const { runtime, result } = run(
        (runtime) => ({
          charge_payment: () => {
            runtime().now = new Date(start + 4_000);
            return retry;
          },
        }),
        4_000,
      );
      await expect(result).resolves.toEqual({ status: 'COMPENSATED', reason: 'deadline_exceeded' });
      expect(runtime.names()).toEqual(['reserve_charge_confirm', ...stoppedWaiting]);
      expect(runtime.timersCreated()).toBe(0);
    });

    it('backs off while a participant is down, never sleeping past the deadline', async () => {
      const { runtime, result } = run(() => ({ charge_payment: () => retry }), 4_000);
      await expect(result).resolves.toEqual({ status: 'COMPENSATED', reason: 'deadline_exceeded' });
      // Attempts at 0, 250, 750, 1750 and 3750 ms; the next back-off (2 s) is cut to the deadline.
      expect(runtime.names()).toEqual([...Array(5).fill('reserve_charge_confirm'), ...stoppedWaiting]);
      expect(runtime.now.getTime() - start).toBe(4_000);
    });

    it('goes on with the sale that a lost run of the activity settled before the deadline', async () => {
      // The first run settled on the sale, then its answer was lost; the next finds the deadline passed.
      let settled: string | undefined;
      const lost: FakeRuntime = new FakeRuntime(
        participants({
          reserve_charge_confirm: () => {
            settled ??= 'confirm';
            lost.now = new Date(start + 15_000);
            return retry;
          },
          decide: (_n, input) => ok((settled ??= String(input.decision))),
        }),
      );
      await expect(lost.run(v5())).resolves.toEqual({ status: 'COMPLETED' });
      expect(lost.names()).toEqual(['reserve_charge_confirm', 'decide', 'confirm_order']);
    });

    it("stops waiting at the customer's cancel, and refunds what may have been charged", async () => {
      const { runtime, result } = run((runtime) => ({
        charge_payment: () => {
          runtime().cancel.complete({ reason: 'customer_cancelled' });
          return PENDING;
        },
      }));
      await expect(result).resolves.toEqual({ status: 'COMPENSATED', reason: 'customer_cancelled' });
      expect(runtime.names()).toEqual(['reserve_charge_confirm', ...stoppedWaiting]);
      expect(runtime.timersCreated()).toBe(0);
    });
  });

  describe('version 3: one reserve_and_charge activity reserves, then charges', () => {
    const v3 = (deadlineInMs?: number): OrderSagaInput => ({ ...sagaInput(deadlineInMs), version: 3 });
    const run = (overrides: Partial<Record<string, Script>> = {}, deadlineInMs?: number) => {
      const runtime = new FakeRuntime(inOne(participants(overrides)));
      return { runtime, result: runtime.run(v3(deadlineInMs)) };
    };
    const charged = ok({ outcome: 'succeeded', paymentId: 'p-1', amount: 1_000, currency: 'USD' });

    it('pays an order in two activities, both commands in the first', async () => {
      const { runtime, result } = run();
      await expect(result).resolves.toEqual({ status: 'COMPLETED' });
      expect(runtime.names()).toEqual(['reserve_and_charge', 'confirm_order']);
      expect(runtime.calls[0]?.input).toEqual({
        orderId: sagaInput().orderId,
        reserve: { orderId: sagaInput().orderId, items: [{ sku: 'sku-1', quantity: 2 }], ttlSeconds: 30 },
        charge: {
          orderId: sagaInput().orderId,
          customerId: 'customer-1',
          amount: 1_000,
          currency: 'USD',
          paymentToken: 'tok_visa',
        },
      });
    });

    it('releases, and refunds nothing, when the reservation does not hold', async () => {
      const short = ok({ outcome: 'failed', shortfalls: [] });
      const other = ok({ outcome: 'reserved', expiresAt: '2026-01-01T00:00:30Z', items: [] });
      for (const [answer, reason] of [
        [short, 'insufficient_stock'],
        [other, 'reservation_mismatch'],
      ] as const) {
        const { runtime, result } = run({ reserve_stock: () => answer });
        await expect(result).resolves.toEqual({ status: 'COMPENSATED', reason });
        expect(runtime.names()).toEqual(['reserve_and_charge', 'release_stock', 'mark_cancelled']);
      }
    });

    it('refunds and releases when the charge is declined, differs, or is refused as conflicting', async () => {
      for (const [answer, reason] of [
        [ok({ outcome: 'declined', reason: 'card declined' }), 'payment_declined'],
        [ok({ outcome: 'succeeded', paymentId: 'p-1', amount: 1, currency: 'USD' }), 'payment_mismatch'],
        [{ status: 'rejected', kind: 'CONFLICT', error: 'amount differs' }, 'payment_mismatch'],
      ] as const) {
        const { runtime, result } = run({ charge_payment: () => answer });
        await expect(result).resolves.toEqual({ status: 'COMPENSATED', reason });
        expect(runtime.names()).toEqual([
          'reserve_and_charge',
          'refund_payment',
          'release_stock',
          'mark_cancelled',
        ]);
      }
    });

    it('sends both again with back-off while payment is down, and goes on when it is back', async () => {
      const { runtime, result } = run({
        charge_payment: (_n, _i, attempt) => (attempt < 4 ? retry : charged),
      });
      await expect(result).resolves.toEqual({ status: 'COMPLETED' });
      expect(runtime.names()).toEqual([...Array(4).fill('reserve_and_charge'), 'confirm_order']);
      expect(runtime.now.getTime() - Date.parse('2026-01-01T00:00:00Z')).toBe(1_750);
    });

    it('gives up at the step deadline, ends whichever step still runs, and compensates both', async () => {
      // Version 4 first settles the saga on compensation: its activity may have been confirming.
      for (const [version, settles] of [
        [3, []],
        [4, ['decide']],
      ] as const) {
        const runtime = new FakeRuntime(settling(participants({ charge_payment: () => retry })));
        await expect(runtime.run({ ...sagaInput(), version })).resolves.toEqual({
          status: 'COMPENSATED',
          reason: 'deadline_exceeded',
        });
        expect(runtime.now.getTime() - Date.parse('2026-01-01T00:00:00Z')).toBe(15_000);
        expect(runtime.names().slice(-5 - settles.length)).toEqual([
          ...settles,
          'record_step',
          'record_step',
          'refund_payment',
          'release_stock',
          'mark_cancelled',
        ]);
        expect(runtime.calls.filter((c) => c.name === 'record_step').map((c) => c.input)).toEqual([
          expect.objectContaining({ step: 'charge_payment', status: 'TIMED_OUT' }),
          expect.objectContaining({ step: 'reserve_stock', status: 'TIMED_OUT' }),
        ]);
        const asked = runtime.calls.filter((c) => c.name === 'decide').map((c) => c.input.decision);
        expect(asked).toEqual(settles.map(() => 'compensate'));
      }
    });

    it('never waits past the order deadline, and refunds what may have been charged', async () => {
      const { runtime, result } = run({ reserve_stock: () => PENDING }, 4_000);
      await expect(result).resolves.toEqual({ status: 'COMPENSATED', reason: 'deadline_exceeded' });
      expect(runtime.now.getTime() - Date.parse('2026-01-01T00:00:00Z')).toBe(4_000);
      expect(runtime.names().slice(-3)).toEqual(['refund_payment', 'release_stock', 'mark_cancelled']);
    });

    it('stops waiting when the customer cancels mid-activity', async () => {
      const runtime: FakeRuntime = new FakeRuntime(
        inOne(
          participants({
            charge_payment: () => {
              runtime.cancel.complete({ reason: 'customer_cancelled' });
              return PENDING;
            },
          }),
        ),
      );
      await expect(runtime.run(v3())).resolves.toEqual({
        status: 'COMPENSATED',
        reason: 'customer_cancelled',
      });
      expect(runtime.names()).toEqual([
        'reserve_and_charge',
        'record_step',
        'record_step',
        'refund_payment',
        'release_stock',
        'mark_cancelled',
      ]);
      expect(runtime.calls[1]?.input).toMatchObject({ step: 'charge_payment', status: 'CANCELLED' });
    });

    it('does not start once the customer cancelled', async () => {
      const runtime = new FakeRuntime(inOne(participants()));
      runtime.cancel.complete({ reason: 'customer_cancelled' });
      await expect(runtime.run(v3())).resolves.toEqual({
        status: 'COMPENSATED',
        reason: 'customer_cancelled',
      });
      expect(runtime.names()).toEqual(['mark_cancelled']);
    });
  });

  describe('version 2: one confirm_order activity commits and marks paid', () => {
    const v2 = (deadlineInMs?: number): OrderSagaInput => ({ ...sagaInput(deadlineInMs), version: 2 });

    it('reserves, charges and confirms in three activities', async () => {
      const runtime = new FakeRuntime(participants());
      await expect(runtime.run(v2())).resolves.toEqual({ status: 'COMPLETED' });
      expect(runtime.names()).toEqual(['reserve_stock', 'charge_payment', 'confirm_order']);
      expect(runtime.calls[2]?.input).toEqual({ orderId: sagaInput().orderId });
    });

    it('refunds, releases and cancels when the commit is refused (the reservation expired)', async () => {
      const runtime = new FakeRuntime(
        participants({
          confirm_order: () => ok({ outcome: 'commit_refused', error: 'reservation expired' }),
        }),
      );
      await expect(runtime.run(v2())).resolves.toEqual({
        status: 'COMPENSATED',
        reason: 'reservation_expired',
      });
      expect(runtime.names().slice(2)).toEqual([
        'confirm_order',
        'refund_payment',
        'release_stock',
        'mark_cancelled',
      ]);
    });

    it('ends FAILED and refunds when the order refuses to be marked paid', async () => {
      const runtime = new FakeRuntime(
        participants({ confirm_order: () => ok({ outcome: 'paid_refused', error: 'order is CANCELLED' }) }),
      );
      await expect(runtime.run(v2())).resolves.toEqual({ status: 'FAILED', reason: 'saga_error' });
      expect(runtime.names().slice(-2)).toEqual(['refund_payment', 'record_saga']);
    });

    it('sends confirm_order again until both participants answer, past any deadline', async () => {
      const runtime = new FakeRuntime(
        participants({
          confirm_order: (_n, _i, attempt) => (attempt < 30 ? retry : ok({ outcome: 'paid' })),
        }),
      );
      await expect(runtime.run(v2(4_000))).resolves.toEqual({ status: 'COMPLETED' });
      expect(runtime.names().filter((n) => n === 'confirm_order')).toHaveLength(30);
    });
  });
});
