import type { Task, WorkflowContext } from '@dapr/dapr';
import { chargeMismatch, reservationMismatch } from '../domain/outcome-checks';
import type { ChargeOutcome, ReserveOutcome } from '../domain/participants';
import {
  backoffMs,
  stepDeadline,
  stepNames,
  type CancellationReason,
  type OrderSagaInput,
  type OrderSagaResult,
  type SagaPolicy,
  type StepName,
} from '../domain/saga';
import type {
  ChargeCommand,
  CompensationCommand,
  ConfirmOutcome,
  OrderCommand,
  RecordSagaCommand,
  RecordStepCommand,
  ReserveCommand,
} from './activities';
import { activityNames, CANCEL_EVENT, type ActivityName, type ActivityResult } from './names';

type Step<R> = AsyncGenerator<Task<unknown>, R, unknown>;

/** How a step ended: its activity's answer, or what stopped waiting for it. */
type StepEnd<T> = { kind: 'done'; result: ActivityResult<T> } | { kind: 'timeout' } | { kind: 'cancelled' };

/** A forward step and the compensation that undoes it (pushed as soon as the step is attempted). */
interface ForwardStep {
  name: StepName;
  compensation: StepName;
  command: (input: OrderSagaInput) => ReserveCommand | ChargeCommand;
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

const forwardSteps: ForwardStep[] = [
  {
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
  },
  {
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
  },
];

/** What every activity call of one saga carries: its retry policy and the order's trace context. */
interface SagaRun {
  policy: SagaPolicy;
  trace?: OrderSagaInput['trace'];
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
  stops: { deadline?: Date; cancel?: Task<unknown> } = {},
): Step<StepEnd<T>> {
  const timer = stops.deadline ? ctx.createTimer(stops.deadline) : undefined;
  const waits: Task<unknown>[] = [...(timer ? [timer] : []), ...(stops.cancel ? [stops.cancel] : [])];
  const stopped = (task: unknown): StepEnd<T> =>
    task === stops.cancel ? { kind: 'cancelled' } : { kind: 'timeout' };
  for (let attemptNo = 1; ; attemptNo += 1) {
    const call = ctx.callActivity(activity, run.trace ? { ...input, trace: run.trace } : input) as Task<
      ActivityResult<T>
    >;
    const first = yield ctx.whenAny([call, ...waits]);
    if (first !== call) return stopped(first);
    const result: ActivityResult<T> = call.isFailed
      ? { status: 'retry', error: call.getException().message }
      : call.getResult();
    if (result.status !== 'retry') return { kind: 'done', result };
    const wakeAt = new Date(ctx.getCurrentUtcDateTime().getTime() + backoffMs(run.policy, attemptNo));
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

/**
 * The order saga: reserve → charge → confirm (commit, mark paid). A failure,
 * the deadline or a customer cancel compensates in reverse (refund, release)
 * and cancels the order with a reason. Once the stock is committed the sale
 * goes through: the confirmation is retried until the participants answer.
 */
export async function* orderSagaWorkflow(ctx: WorkflowContext, input: OrderSagaInput): Step<OrderSagaResult> {
  const { orderId, policy } = input;
  const run: SagaRun = { policy, ...(input.trace ? { trace: input.trace } : {}) };
  const orderDeadline = new Date(input.deadline);
  const cancel = ctx.waitForExternalEvent(CANCEL_EVENT) as Task<unknown>;
  const compensations: StepName[] = [];
  let reason: CancellationReason | undefined;

  const abandon = async function* (step: StepName, status: 'TIMED_OUT' | 'CANCELLED'): Step<void> {
    const command: RecordStepCommand = { orderId, step, status, detail: { reason } };
    yield* mustRun(ctx, activityNames.recordStep, command, run);
  };

  for (const step of forwardSteps) {
    const now = ctx.getCurrentUtcDateTime();
    if (cancel.isComplete) {
      reason = 'customer_cancelled';
      break;
    }
    if (now.getTime() >= orderDeadline.getTime()) {
      reason = 'deadline_exceeded';
      break;
    }
    // Compensate even a call whose answer never came: the participant may have acted on it.
    compensations.unshift(step.compensation);
    const end = yield* attempt<unknown>(ctx, step.name, step.command(input), run, {
      deadline: stepDeadline(now, policy, orderDeadline),
      cancel,
    });
    if (end.kind === 'timeout' || end.kind === 'cancelled') {
      reason = end.kind === 'timeout' ? 'deadline_exceeded' : 'customer_cancelled';
      yield* abandon(step.name, end.kind === 'timeout' ? 'TIMED_OUT' : 'CANCELLED');
      break;
    }
    reason =
      end.result.status === 'ok'
        ? step.verdict(end.result.value, input)
        : end.result.status === 'rejected'
          ? step.refused(end.result.kind)
          : 'saga_error';
    if (reason) break;
  }

  if (!reason && cancel.isComplete) reason = 'customer_cancelled';
  if (!reason) {
    const confirmed = yield* confirm(ctx, input, run);
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
