import type { Task, WorkflowContext } from '@dapr/dapr';
import { chargeMismatch, reservationMismatch } from '../domain/outcome-checks';
import type { ChargeOutcome, ReserveOutcome } from '../domain/participants';
import {
  backoffMs,
  CURRENT_SAGA_VERSION,
  stepDeadline,
  stepNames,
  type CancellationReason,
  type OrderSagaInput,
  type SagaDecision,
  type OrderSagaResult,
  type SagaPolicy,
  type StepName,
} from '../domain/saga';
import type {
  Answer,
  ChargeCommand,
  CompensationCommand,
  ConfirmOutcome,
  DecideCommand,
  OrderCommand,
  RecordSagaCommand,
  RecordStepCommand,
  ReserveAndChargeCommand,
  ReserveCommand,
  SettleOutcome,
} from './activities';
import { activityNames, CANCEL_EVENT, type ActivityName, type ActivityResult } from './names';

type Step<R> = AsyncGenerator<Task<unknown>, R, unknown>;

/** How a step ended: its activity's answer, or what stopped waiting for it. */
type StepEnd<T> = { kind: 'done'; result: ActivityResult<T> } | { kind: 'timeout' } | { kind: 'cancelled' };

/** A forward step and the compensation that undoes it (pushed as soon as the step is attempted). */
interface ForwardStep<C extends ReserveCommand | ChargeCommand = ReserveCommand | ChargeCommand> {
  name: StepName;
  compensation: StepName;
  command: (input: OrderSagaInput) => C;
  /** Why the order must be cancelled given the participant's answer, or undefined to go on. */
  verdict: (value: unknown, input: OrderSagaInput) => CancellationReason | undefined;
  /** Why the order must be cancelled when the participant refused the command (a 4xx of that kind). */
  refused: (kind: string | undefined) => CancellationReason;
}

function isReserveOutcome(value: unknown): value is ReserveOutcome {
  return typeof value === 'object' && value !== null && 'outcome' in value;
}
function isChargeOutcome(value: unknown): value is ChargeOutcome {
  return typeof value === 'object' && value !== null && 'outcome' in value;
}

const reserveStep: ForwardStep<ReserveCommand> = {
  name: stepNames.reserveStock,
  compensation: stepNames.releaseStock,
  command: (input) => ({
    orderId: input.orderId,
    items: input.items.map(({ sku, quantity }) => ({ sku, quantity })),
    ttlSeconds: input.policy.reservationTtlSeconds,
  }),
  verdict: (value, input) => {
    if (!isReserveOutcome(value)) return 'saga_error';
    if (value.outcome === 'reserved') {
      return reservationMismatch(input.items, value) ? 'reservation_mismatch' : undefined;
    }
    // A tombstone: the order was released (cancelled) before this reserve arrived.
    return value.reason === 'released' ? 'customer_cancelled' : 'insufficient_stock';
  },
  refused: () => 'saga_error',
};
const chargeStep: ForwardStep<ChargeCommand> = {
  name: stepNames.chargePayment,
  compensation: stepNames.refundPayment,
  command: (input) => ({
    orderId: input.orderId,
    customerId: input.customerId,
    amount: input.total,
    currency: input.currency,
    paymentToken: input.paymentToken,
  }),
  verdict: (value, input) => {
    if (!isChargeOutcome(value)) return 'payment_failed';
    if (value.outcome === 'succeeded') {
      const mismatch = chargeMismatch({ amount: input.total, currency: input.currency }, value);
      return mismatch ? 'payment_mismatch' : undefined;
    }
    return value.outcome === 'provider_error' ? 'payment_failed' : 'payment_declined';
  },
  // Payment refuses (409) a charge that differs from the one already recorded for the order.
  refused: (kind) => (kind === 'CONFLICT' ? 'payment_mismatch' : 'saga_error'),
};
const forwardSteps: ForwardStep[] = [reserveStep, chargeStep];

/** Why a participant's definitive answer to a step cancels the order, or undefined to go on. */
function judged(
  step: ForwardStep,
  answer: Answer<unknown>,
  input: OrderSagaInput,
): CancellationReason | undefined {
  return answer.status === 'ok' ? step.verdict(answer.value, input) : step.refused(answer.kind);
}

/** What every activity call of one saga carries: its retry policy and the order's trace context. */
interface SagaRun {
  policy: SagaPolicy;
  trace?: OrderSagaInput['trace'];
}

/**
 * What ends the wait for a step other than its answer: `deadline` and the customer's `cancel`.
 * Versions 1–4 race the activity against a durable timer set at the deadline. In version 5 the
 * activity keeps the deadline itself (`deadlineInActivity`: its participant calls get only the time
 * left, and it answers `retry` once the deadline has passed), so a paid order needs no timer at all;
 * the workflow looks at the deadline only between attempts, and no back-off sleeps past it.
 */
interface Stops {
  deadline?: Date;
  cancel?: Task<unknown>;
  deadlineInActivity?: boolean;
}

/**
 * Calls an activity until it answers definitively, backing off with durable
 * timers while the participant is down. Stops early when `deadline` passes or
 * `cancel` fires. Deterministic: time comes only from the workflow context.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- the runtime drives async generators; this one only yields tasks
async function* attempt<T>(
  ctx: WorkflowContext,
  activity: ActivityName,
  input: object,
  run: SagaRun,
  stops: Stops = {},
): Step<StepEnd<T>> {
  const { deadline, cancel, deadlineInActivity = false } = stops;
  const timer = deadline && !deadlineInActivity ? ctx.createTimer(deadline) : undefined;
  const waits: Task<unknown>[] = [...(timer ? [timer] : []), ...(cancel ? [cancel] : [])];
  const stopped = (task: unknown): StepEnd<T> =>
    task === cancel ? { kind: 'cancelled' } : { kind: 'timeout' };
  // Only version 5 reads the clock here: an older instance's replay must take the turns it took.
  const lateBy = deadlineInActivity ? deadline?.getTime() : undefined;
  for (let attemptNo = 1; ; attemptNo += 1) {
    if (lateBy !== undefined && ctx.getCurrentUtcDateTime().getTime() >= lateBy) return { kind: 'timeout' };
    const call = ctx.callActivity(activity, run.trace ? { ...input, trace: run.trace } : input) as Task<
      ActivityResult<T>
    >;
    const first = yield ctx.whenAny([call, ...waits]);
    if (first !== call) return stopped(first);
    const result: ActivityResult<T> = call.isFailed
      ? { status: 'retry', error: call.getException().message }
      : call.getResult();
    if (result.status !== 'retry') return { kind: 'done', result };
    const now = ctx.getCurrentUtcDateTime().getTime();
    if (lateBy !== undefined && now >= lateBy) return { kind: 'timeout' };
    const wakeAt = new Date(Math.min(now + backoffMs(run.policy, attemptNo), lateBy ?? Infinity));
    const pause = ctx.createTimer(wakeAt);
    const woke = yield ctx.whenAny([pause, ...waits]);
    if (woke !== pause) return stopped(woke);
  }
}

/** Runs an activity that must eventually happen (confirmations, compensations): no deadline, no cancel. */
async function* mustRun<T>(
  ctx: WorkflowContext,
  activity: ActivityName,
  input: object,
  run: SagaRun,
): Step<ActivityResult<T>> {
  const end = yield* attempt<T>(ctx, activity, input, run);
  // Without a deadline or a cancel the only way out is an answer.
  return end.kind === 'done' ? end.result : { status: 'retry', error: end.kind };
}

/**
 * Commits the stock, then marks the order paid, each retried until its participant answers; says
 * which one refused, if any. Version 1 instances (started before version 2 shipped) replay their
 * two activities; later ones run both commands in one activity.
 */
async function* confirm(
  ctx: WorkflowContext,
  input: OrderSagaInput,
  run: SagaRun,
): Step<ConfirmOutcome['outcome']> {
  const command: OrderCommand = { orderId: input.orderId };
  if ((input.version ?? 1) >= 2) {
    const answer = yield* mustRun<ConfirmOutcome>(ctx, activityNames.confirmOrder, command, run);
    // The activity turns a refusal into an outcome; any other answer is a refused commit.
    return answer.status === 'ok' ? answer.value.outcome : 'commit_refused';
  }
  const committed = yield* mustRun(ctx, activityNames.commitStock, command, run);
  if (committed.status !== 'ok') return 'commit_refused';
  const paid = yield* mustRun(ctx, activityNames.markPaid, command, run);
  return paid.status === 'ok' ? 'paid' : 'paid_refused';
}

/** Why the saga must not start another forward step: the customer's cancel, or the order's deadline. */
function stopBeforeStep(
  ctx: WorkflowContext,
  cancel: Task<unknown>,
  orderDeadline: Date,
): CancellationReason | undefined {
  if (cancel.isComplete) return 'customer_cancelled';
  if (ctx.getCurrentUtcDateTime().getTime() >= orderDeadline.getTime()) return 'deadline_exceeded';
  return undefined;
}

/**
 * Notes in the saga log that `steps` were abandoned by the step deadline or the customer's cancel
 * (only one still running changes), and says why the order is cancelled.
 */
async function* abandon(
  ctx: WorkflowContext,
  run: SagaRun,
  orderId: string,
  steps: StepName[],
  end: 'timeout' | 'cancelled',
): Step<CancellationReason> {
  const reason = end === 'timeout' ? 'deadline_exceeded' : 'customer_cancelled';
  const status = end === 'timeout' ? 'TIMED_OUT' : 'CANCELLED';
  for (const step of steps) {
    const command: RecordStepCommand = { orderId, step, status, detail: { reason } };
    yield* mustRun(ctx, activityNames.recordStep, command, run);
  }
  return reason;
}

/**
 * How the forward path ended: why it cancels the order; nothing, when the confirmation is next; or,
 * in version 4, what the confirmation it ran came to. `compensations` is filled in the order to run
 * them.
 */
type ForwardEnd = CancellationReason | undefined | { confirmed: ConfirmOutcome['outcome'] };
type Forward = (
  ctx: WorkflowContext,
  input: OrderSagaInput,
  run: SagaRun,
  cancel: Task<unknown>,
  compensations: StepName[],
) => Step<ForwardEnd>;

/** Versions 1 and 2: reserve_stock, then charge_payment, each raced against its own step deadline. */
const forwardBySteps: Forward = async function* (ctx, input, run, cancel, compensations) {
  const orderDeadline = new Date(input.deadline);
  for (const step of forwardSteps) {
    const stop = stopBeforeStep(ctx, cancel, orderDeadline);
    if (stop) return stop;
    // Compensate even a call whose answer never came: the participant may have acted on it.
    compensations.unshift(step.compensation);
    const end = yield* attempt<unknown>(ctx, step.name, step.command(input), run, {
      deadline: stepDeadline(ctx.getCurrentUtcDateTime(), input.policy, orderDeadline),
      cancel,
    });
    if (end.kind !== 'done') return yield* abandon(ctx, run, input.orderId, [step.name], end.kind);
    const reason = end.result.status === 'retry' ? 'saga_error' : judged(step, end.result, input);
    if (reason) return reason;
  }
  return undefined;
};

/**
 * Versions 3 to 5: one activity, stopped at one step deadline. Version 3's reserve_and_charge
 * reserves, then charges; version 4's reserve_charge_confirm also confirms, once the charge stands;
 * version 5 runs that activity with the deadline in its input and no timer (see `Stops`).
 * The release is always owed once the reservation is sent; the refund once payment may have heard of
 * the order: when the answer carries a charge, or when no answer came at all.
 *
 * In version 4 the saga log settles, once, whether a charged saga confirms or compensates
 * (`SagaLog.decide`): the activity asks to confirm before it commits, and when the deadline or a
 * cancel stops the workflow waiting, the workflow asks to compensate. Whichever asked first wins, so
 * a sale being confirmed is never refunded, and nothing is committed once the refund is decided.
 */
function forwardInOne(version: number): Forward {
  const confirms = version >= 4;
  const deadlineInActivity = version >= 5;
  return async function* (ctx, input, run, cancel, compensations) {
    const orderDeadline = new Date(input.deadline);
    const stop = stopBeforeStep(ctx, cancel, orderDeadline);
    if (stop) return stop;
    compensations.unshift(reserveStep.compensation);
    const deadline = stepDeadline(ctx.getCurrentUtcDateTime(), input.policy, orderDeadline);
    const command: ReserveAndChargeCommand = {
      orderId: input.orderId,
      reserve: reserveStep.command(input),
      charge: chargeStep.command(input),
      ...(deadlineInActivity ? { deadline: deadline.toISOString() } : {}),
    };
    const activity = confirms ? activityNames.reserveChargeConfirm : activityNames.reserveAndCharge;
    const end = yield* attempt<SettleOutcome>(ctx, activity, command, run, {
      deadline,
      cancel,
      deadlineInActivity,
    });
    if (end.kind !== 'done') {
      // The charge may have landed (in version 4, when the sale was settled, it did): owe its refund
      // before anything else, including a confirmation whose commit is then refused.
      compensations.unshift(chargeStep.compensation);
      if (confirms) {
        const ask: DecideCommand = { orderId: input.orderId, decision: 'compensate' };
        const decided = yield* mustRun<SagaDecision>(ctx, activityNames.decide, ask, run);
        // The activity settled on the sale first: it stands, whatever stopped the wait.
        if (decided.status === 'ok' && decided.value === 'confirm') {
          return { confirmed: yield* confirm(ctx, input, run) };
        }
      }
      // Whichever of the two was still running ends so; one that had ended keeps its status.
      return yield* abandon(ctx, run, input.orderId, [chargeStep.name, reserveStep.name], end.kind);
    }
    if (end.result.status !== 'ok') return 'saga_error';
    const { reserve, charge, confirm: confirmed } = end.result.value;
    const refused = judged(reserveStep, reserve, input);
    if (refused) return refused;
    compensations.unshift(chargeStep.compensation);
    const declined = charge ? judged(chargeStep, charge, input) : 'saga_error';
    if (declined || !confirms) return declined;
    // A charge that stands always comes with a confirmation; `compensating` only reaches a workflow
    // that no longer waits for this answer.
    if (!confirmed || confirmed.outcome === 'compensating') return 'saga_error';
    if (confirmed.outcome === 'pending') return { confirmed: yield* confirm(ctx, input, run) };
    return { confirmed: confirmed.outcome };
  };
}

/** Each version's forward path (absent: 1). */
function forwardOf(version: number): Forward {
  if (version > CURRENT_SAGA_VERSION) {
    // Replaying it as an older shape would run other steps than the instance's history holds.
    throw new Error(
      `saga version ${version} is newer than this replica knows (${CURRENT_SAGA_VERSION}): ` +
        'start new sagas at the old version (SAGA_START_VERSION) until every replica is upgraded',
    );
  }
  return version >= 3 ? forwardInOne(version) : forwardBySteps;
}

/**
 * The order saga: reserve → charge → confirm (commit, mark paid). A failure,
 * the deadline or a customer cancel compensates in reverse (refund, release)
 * and cancels the order with a reason. Once the stock is committed the sale
 * goes through: the confirmation is retried until the participants answer.
 */
export async function* orderSagaWorkflow(ctx: WorkflowContext, input: OrderSagaInput): Step<OrderSagaResult> {
  const { orderId } = input;
  const run: SagaRun = { policy: input.policy, ...(input.trace ? { trace: input.trace } : {}) };
  const cancel = ctx.waitForExternalEvent(CANCEL_EVENT) as Task<unknown>;
  const compensations: StepName[] = [];
  const end = yield* forwardOf(input.version ?? 1)(ctx, input, run, cancel, compensations);
  let reason = typeof end === 'object' ? undefined : end;

  if (!reason && typeof end !== 'object' && cancel.isComplete) reason = 'customer_cancelled';
  if (!reason) {
    const confirmed = typeof end === 'object' ? end.confirmed : yield* confirm(ctx, input, run);
    if (confirmed === 'paid') return { status: 'COMPLETED' };
    if (confirmed === 'paid_refused') {
      // The order was cancelled behind the saga's back: the sale cannot stand, give the money back.
      const refund: CompensationCommand = { orderId, reason: 'saga_error' };
      yield* mustRun(ctx, activityNames.refundPayment, refund, run);
      const failed: RecordSagaCommand = { orderId, status: 'FAILED', reason: 'saga_error' };
      yield* mustRun(ctx, activityNames.recordSaga, failed, run);
      return { status: 'FAILED', reason: 'saga_error' };
    }
    reason = 'reservation_expired';
  }

  for (const compensation of compensations) {
    const command: CompensationCommand = { orderId, reason };
    yield* mustRun(ctx, compensation, command, run);
  }
  const cancelled = yield* mustRun(ctx, activityNames.markCancelled, { orderId, reason }, run);
  if (cancelled.status === 'ok') return { status: 'COMPENSATED', reason };
  const failed: RecordSagaCommand = { orderId, status: 'FAILED', reason };
  yield* mustRun(ctx, activityNames.recordSaga, failed, run);
  return { status: 'FAILED', reason };
}
