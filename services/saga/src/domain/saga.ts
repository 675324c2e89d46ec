/**
 * The order saga's vocabulary: its steps, their outcomes, the reasons an order
 * is cancelled, and the statuses of the saga log. Pure types and constants; no
 * Dapr, no database.
 */

/** Forward steps and their compensations, as activity names and saga-log step names. */
export const stepNames = {
  reserveStock: 'reserve_stock',
  chargePayment: 'charge_payment',
  commitStock: 'commit_stock',
  markPaid: 'mark_paid',
  refundPayment: 'refund_payment',
  releaseStock: 'release_stock',
  markCancelled: 'mark_cancelled',
} as const;
export type StepName = (typeof stepNames)[keyof typeof stepNames];

/** Why an order ended CANCELLED (the order keeps it as its cancellation reason). */
export type CancellationReason =
  | 'insufficient_stock'
  | 'payment_declined'
  | 'payment_failed'
  | 'deadline_exceeded'
  | 'customer_cancelled'
  | 'reservation_expired'
  /** The charge recorded for the order is not for its total (or payment refused one that differs). */
  | 'payment_mismatch'
  /** The reservation recorded for the order holds other lines than the order's. */
  | 'reservation_mismatch'
  | 'saga_error';

export const sagaStatuses = ['RUNNING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED', 'FAILED'] as const;
export type SagaStatus = (typeof sagaStatuses)[number];
export const finalSagaStatuses: readonly SagaStatus[] = ['COMPLETED', 'COMPENSATED', 'FAILED'];

/** Whether a charged saga goes on to the sale or back to a refund (`SagaLog.decide`). */
export type SagaDecision = 'confirm' | 'compensate';

export type StepStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'TIMED_OUT' | 'CANCELLED';

export interface OrderLine {
  sku: string;
  quantity: number;
  unitPrice: number;
}

/** Everything the workflow needs, fixed when it is scheduled (so a config change never alters a replay). */
export interface OrderSagaInput {
  orderId: string;
  customerId: string;
  items: OrderLine[];
  total: number;
  currency: string;
  paymentToken: string;
  /** ISO time by which the order must be PAID, or it is cancelled. */
  deadline: string;
  policy: SagaPolicy;
  /**
   * The W3C trace context of the order_created delivery that started the saga: every activity runs
   * in it, so the participants' calls and their events stay in the order's one trace.
   */
  trace?: { traceparent?: string; tracestate?: string };
  /**
   * The saga's shape this instance was started with (absent: 1). A workflow replays its history on
   * every turn, so an instance in flight across an upgrade must keep the shape it began with:
   * 1 confirms in two activities (commit_stock, then mark_paid), 2 in one (confirm_order), 3 also
   * reserves and charges in one (reserve_and_charge), 4 runs all four commands in one activity
   * (reserve_charge_confirm), and 5 runs that activity without a durable timer for the step
   * deadline: the activity gives each participant call only the time left before it, and the
   * workflow checks it between attempts.
   */
  version?: SagaVersion;
}

/**
 * The shapes of the saga a running instance may have. New instances start with the last, unless
 * SAGA_START_VERSION holds them at an earlier one while a rolling upgrade still runs older replicas.
 */
export const sagaVersions = [1, 2, 3, 4, 5] as const;
export type SagaVersion = (typeof sagaVersions)[number];
export const CURRENT_SAGA_VERSION: SagaVersion = 5;

export interface SagaPolicy {
  stepTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  reservationTtlSeconds: number;
}

/** How a saga ended: the workflow's output. */
export interface OrderSagaResult {
  status: Extract<SagaStatus, 'COMPLETED' | 'COMPENSATED' | 'FAILED'>;
  reason?: CancellationReason;
}

/** The back-off before attempt `attempt + 1` (attempt counts from 1). */
export function backoffMs(policy: SagaPolicy, attempt: number): number {
  return Math.min(policy.retryMaxMs, policy.retryInitialMs * 2 ** Math.max(0, attempt - 1));
}

/** The end of a forward step: its own timeout, but never after the order's deadline. */
export function stepDeadline(now: Date, policy: SagaPolicy, orderDeadline: Date): Date {
  return new Date(Math.min(now.getTime() + policy.stepTimeoutMs, orderDeadline.getTime()));
}
