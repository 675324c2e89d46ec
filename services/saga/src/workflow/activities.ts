import { AppError, runWithContext } from '@ecom/shared';
import {
  chargeMismatch,
  chargeStands,
  reservationHolds,
  reservationMismatch,
} from '../domain/outcome-checks';
import type {
  ChargeOutcome,
  InventoryPort,
  OrderPort,
  PaymentPort,
  ReserveOutcome,
} from '../domain/participants';
import type {
  CancellationReason,
  OrderLine,
  SagaDecision,
  SagaStatus,
  StepName,
  StepStatus,
} from '../domain/saga';
import { stepNames } from '../domain/saga';
import type { AfterStep, SagaLog } from '../domain/saga-log';
import { activityNames, type ActivityName, type ActivityResult } from './names';

export interface SagaClients {
  inventory: InventoryPort;
  payment: PaymentPort;
  order: OrderPort;
  sagaLog: SagaLog;
}

export interface ReserveCommand {
  orderId: string;
  items: Pick<OrderLine, 'sku' | 'quantity'>[];
  ttlSeconds: number;
}
export interface ChargeCommand {
  orderId: string;
  customerId: string;
  amount: number;
  currency: string;
  paymentToken: string;
}
export interface OrderCommand {
  orderId: string;
}
export interface CompensationCommand {
  orderId: string;
  reason: CancellationReason;
}
export interface RecordStepCommand {
  orderId: string;
  step: StepName;
  status: StepStatus;
  detail: Record<string, unknown>;
}
export interface RecordSagaCommand {
  orderId: string;
  status: SagaStatus;
  reason?: CancellationReason;
}

/**
 * What confirm_order found: the order paid, or which participant refused (a 4xx). A participant
 * that could not be reached makes the whole activity a `retry`; both commands are idempotent.
 */
export type ConfirmOutcome =
  { outcome: 'paid' } | { outcome: 'commit_refused' | 'paid_refused'; error: string; kind?: string };

/**
 * Version 5's step deadline, an ISO time, in the forward activity's input: the activity gives each
 * participant call only the time left before it, settles on no sale after it, and answers `retry`
 * once it has passed; the workflow then stops waiting, without a durable timer of its own.
 */
interface Bounded {
  deadline?: string;
}

/** Version 3's forward path, one activity: the reservation, then the charge (and version 5's deadline). */
export interface ReserveAndChargeCommand extends Bounded {
  orderId: string;
  reserve: ReserveCommand;
  charge: ChargeCommand;
}

/** A participant's definitive answer: what its step's activity returns once it is not `retry`. */
export type Answer<T> = Exclude<ActivityResult<T>, { status: 'retry' }>;

/**
 * What reserve_and_charge found: each participant's definitive answer, as its own activity would have
 * returned it, and no `charge` when the reservation did not hold (nothing was sent to payment). A
 * participant that could not be reached makes the whole activity a `retry`: both commands are
 * idempotent by order id, so the next attempt sends the reservation again and gets the one recorded.
 */
export interface ForwardOutcome {
  reserve: Answer<ReserveOutcome>;
  charge?: Answer<ChargeOutcome>;
}

/**
 * What reserve_charge_confirm found: reserve_and_charge's answers and, once the charge stood, what
 * settling the saga led to: the confirmation's outcome; `pending` when the saga log settled on the
 * sale but a participant of the confirmation could not be reached (the workflow confirms until it
 * answers); `compensating` when the workflow had already settled on compensation (it no longer waits
 * for this answer).
 */
export interface SettleOutcome extends ForwardOutcome {
  confirm?: ConfirmOutcome | { outcome: 'pending' | 'compensating' };
}

/** The saga whose settlement the workflow asks for, and the one it wants. */
export interface DecideCommand {
  orderId: string;
  decision: SagaDecision;
}

/** Whether a participant's answer completes the step; `mismatch` says why an answer does not fit the order. */
interface StepCheck {
  ok: boolean;
  mismatch?: string;
}

/** How a step runs inside an activity that ran the step before it (see `logged`). */
interface StepChain {
  started?: boolean;
  then?: AfterStep | undefined;
}

/** What the workflow adds to every activity's input: the order's trace context. */
interface Traced {
  trace?: { traceparent?: string; tracestate?: string };
}

/** An activity as the workflow runtime calls it; the activity context is not needed. */
export type Activity<I, O> = (context: unknown, input: I) => Promise<O>;

/** Participant failures that mean "not now" rather than "no". */
function isRetryable(error: unknown): boolean {
  if (!(error instanceof AppError)) return true;
  return error.kind === 'UNAVAILABLE' || error.kind === 'INTERNAL' || error.kind === 'RATE_LIMITED';
}

function refused(
  outcome: 'commit_refused' | 'paid_refused',
  answer: { error: string; kind?: string | undefined },
): ActivityResult<ConfirmOutcome> {
  return {
    status: 'ok',
    value: { outcome, error: answer.error, ...(answer.kind ? { kind: answer.kind } : {}) },
  };
}

const untilOf = (c: Bounded): Date | undefined =>
  c.deadline === undefined ? undefined : new Date(c.deadline);

/** Whether version 5's step deadline has passed: then the activity answers `retry` at once. */
function pastDeadline(c: Bounded): ActivityResult<never> | undefined {
  if (c.deadline === undefined || Date.now() < Date.parse(c.deadline)) return undefined;
  return { status: 'retry', error: `the step's deadline ${c.deadline} has passed` };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The saga's activities, built from injected clients. Each calls one idempotent
 * participant command and keeps the saga log's step timeline; participant
 * errors come back as values so the workflow decides about retries.
 */
export function createActivities(clients: SagaClients) {
  const { inventory, payment, order, sagaLog } = clients;

  /**
   * A step as an activity. Called by another step of the same activity it takes a `chain`: the step
   * was started already by the statement that ended the one before, and `then` (in place of the
   * step's own) is written by the statement that ends this one, when it completes. A step's log
   * writes are one round trip each, so a paid order's one activity makes 6 of them, not 10.
   */
  function logged<I extends { orderId: string }, O>(
    step: StepName,
    run: (input: I) => Promise<O>,
    check: (value: O, input: I) => StepCheck = () => ({ ok: true }),
    then?: AfterStep,
  ) {
    // In the order's trace (the workflow passes it along): the participant calls carry its traceparent.
    return (_context: unknown, input: I & Traced, chain: StepChain = {}): Promise<ActivityResult<O>> =>
      runWithContext({ ...input.trace, orderId: input.orderId }, () =>
        runStep(step, run, check, input, { then, ...chain }),
      );
  }

  async function runStep<I extends { orderId: string }, O>(
    step: StepName,
    run: (input: I) => Promise<O>,
    check: (value: O, input: I) => StepCheck,
    input: I,
    chain: StepChain,
  ): Promise<ActivityResult<O>> {
    if (!chain.started) await sagaLog.stepStarted(input.orderId, step);
    try {
      const value = await run(input);
      const { ok, mismatch } = check(value, input);
      await sagaLog.stepEnded(
        input.orderId,
        step,
        ok ? 'COMPLETED' : 'FAILED',
        { result: value ?? null, ...(mismatch ? { mismatch } : {}) },
        ok ? chain.then : undefined,
      );
      return { status: 'ok', value };
    } catch (error) {
      const message = messageOf(error);
      if (isRetryable(error)) {
        await sagaLog.stepRetrying(input.orderId, step, message);
        return { status: 'retry', error: message };
      }
      await sagaLog.stepEnded(input.orderId, step, 'FAILED', { error: message });
      return {
        status: 'rejected',
        error: message,
        kind: error instanceof AppError ? error.kind : undefined,
      };
    }
  }

  const commitStock = logged(stepNames.commitStock, (c: OrderCommand) => inventory.commit(c.orderId));
  // The saga completes in the statement that ends this step.
  const markPaid = logged(stepNames.markPaid, (c: OrderCommand) => order.markPaid(c.orderId), undefined, {
    sagaStatus: 'COMPLETED',
  });

  const reserveStock = logged(
    stepNames.reserveStock,
    (c: ReserveCommand & Bounded) => inventory.reserve(c.orderId, c.items, c.ttlSeconds, untilOf(c)),
    (outcome, c) => ({
      ok: reservationHolds(c.items, outcome),
      mismatch: reservationMismatch(c.items, outcome),
    }),
  );
  const chargePayment = logged(
    stepNames.chargePayment,
    (c: ChargeCommand & Bounded) => payment.charge(c, untilOf(c)),
    (outcome, c) => ({ ok: chargeStands(c, outcome), mismatch: chargeMismatch(c, outcome) }),
  );

  const reserveAndCharge = async (
    context: unknown,
    c: ReserveAndChargeCommand & Traced,
  ): Promise<ActivityResult<ForwardOutcome>> => {
    // The order's trace and, in version 5, the step's deadline go along with each command.
    const carried = {
      ...(c.trace ? { trace: c.trace } : {}),
      ...(c.deadline === undefined ? {} : { deadline: c.deadline }),
    };
    // A reservation that holds completes its step, and that statement starts the charge's.
    const reserve = await reserveStock(
      context,
      { ...c.reserve, ...carried },
      {
        then: { start: stepNames.chargePayment },
      },
    );
    if (reserve.status === 'retry') return reserve;
    // Payment hears of the order only once its stock is held.
    if (reserve.status === 'rejected' || !reservationHolds(c.reserve.items, reserve.value)) {
      return { status: 'ok', value: { reserve } };
    }
    const charge = await chargePayment(context, { ...c.charge, ...carried }, { started: true });
    if (charge.status === 'retry') return charge;
    return { status: 'ok', value: { reserve, charge } };
  };

  /** Commits the stock, then marks the order paid; `commitStarted` when the caller's statement started the commit. */
  const confirmOrder = async (
    context: unknown,
    c: OrderCommand & Traced,
    commitStarted = false,
  ): Promise<ActivityResult<ConfirmOutcome>> => {
    const committed = await commitStock(context, c, {
      started: commitStarted,
      then: { start: stepNames.markPaid },
    });
    if (committed.status === 'retry') return committed;
    if (committed.status === 'rejected') return refused('commit_refused', committed);
    const paid = await markPaid(context, c, { started: true });
    if (paid.status === 'retry') return paid;
    if (paid.status === 'rejected') return refused('paid_refused', paid);
    return { status: 'ok', value: { outcome: 'paid' } };
  };

  const activities = {
    [activityNames.reserveStock]: reserveStock,
    [activityNames.chargePayment]: chargePayment,
    [activityNames.reserveAndCharge]: reserveAndCharge,
    [activityNames.commitStock]: commitStock,
    [activityNames.markPaid]: markPaid,
    [activityNames.confirmOrder]: confirmOrder,
    [activityNames.reserveChargeConfirm]: async (
      context: unknown,
      c: ReserveAndChargeCommand & Traced,
    ): Promise<ActivityResult<SettleOutcome>> => {
      const late = pastDeadline(c);
      if (late) return late;
      const forward = await reserveAndCharge(context, c);
      if (forward.status !== 'ok') return forward;
      const { charge } = forward.value;
      if (charge?.status !== 'ok' || !chargeStands(c.charge, charge.value)) return forward;
      // Past the deadline the workflow settles on the refund (as version 4's did, its timer fired).
      const tooLate = pastDeadline(c);
      if (tooLate) return tooLate;
      // The sale is settled here, or not at all: a workflow that stopped waiting may have settled
      // on the refund, and then nothing is committed.
      // Settled on the sale, the same statement starts the commit's step.
      if ((await sagaLog.decide(c.orderId, 'confirm', stepNames.commitStock)) === 'compensate') {
        return { status: 'ok', value: { ...forward.value, confirm: { outcome: 'compensating' } } };
      }
      const confirmed = await confirmOrder(
        context,
        { orderId: c.orderId, ...(c.trace ? { trace: c.trace } : {}) },
        true,
      );
      const confirm = confirmed.status === 'ok' ? confirmed.value : { outcome: 'pending' as const };
      return { status: 'ok', value: { ...forward.value, confirm } };
    },
    [activityNames.decide]: async (
      _context: unknown,
      c: DecideCommand,
    ): Promise<ActivityResult<SagaDecision>> => ({
      status: 'ok',
      value: await sagaLog.decide(c.orderId, c.decision),
    }),
    [activityNames.refundPayment]: logged(stepNames.refundPayment, async (c: CompensationCommand) => {
      await sagaLog.setStatus(c.orderId, 'COMPENSATING', c.reason);
      return payment.refund(c.orderId, c.reason);
    }),
    [activityNames.releaseStock]: logged(stepNames.releaseStock, async (c: CompensationCommand) => {
      await sagaLog.setStatus(c.orderId, 'COMPENSATING', c.reason);
      return inventory.release(c.orderId, c.reason);
    }),
    [activityNames.markCancelled]: logged(stepNames.markCancelled, async (c: CompensationCommand) => {
      await sagaLog.setStatus(c.orderId, 'COMPENSATING', c.reason);
      await order.markCancelled(c.orderId, c.reason);
      await sagaLog.setStatus(c.orderId, 'COMPENSATED', c.reason);
    }),
    [activityNames.recordStep]: async (
      _context: unknown,
      c: RecordStepCommand,
    ): Promise<ActivityResult<null>> => {
      await sagaLog.stepEnded(c.orderId, c.step, c.status, c.detail);
      return { status: 'ok', value: null };
    },
    [activityNames.recordSaga]: async (
      _context: unknown,
      c: RecordSagaCommand,
    ): Promise<ActivityResult<null>> => {
      await sagaLog.setStatus(c.orderId, c.status, c.reason);
      return { status: 'ok', value: null };
    },
  } satisfies Record<ActivityName, Activity<never, ActivityResult<unknown>>>;
  return activities;
}
