import type { CancellationReason, SagaDecision, SagaStatus, StepName, StepStatus } from './saga';

export interface SagaStepRecord {
  name: StepName;
  status: StepStatus;
  startedAt: string;
  endedAt: string | null;
  attempts: number;
  detail: Record<string, unknown>;
}

export interface SagaRecord {
  orderId: string;
  customerId: string;
  status: SagaStatus;
  reason: CancellationReason | null;
  cancelRequested: boolean;
  deadline: string | null;
  createdAt: string;
  updatedAt: string;
  steps: SagaStepRecord[];
}

export interface SagaListPage {
  items: Omit<SagaRecord, 'steps'>[];
  nextCursor: string | null;
}

/**
 * What the statement that ends a step writes next, in the same round trip: the start of the step
 * that follows at once, or the saga's completion.
 */
export type AfterStep = { start: StepName } | { sagaStatus: 'COMPLETED' };

/** The saga's queryable timeline, kept beside (not instead of) the workflow's own state. */
export interface SagaLog {
  /**
   * Records a saga when its order is created; a second call changes nothing. Returns the saga's
   * status, that of the row already there when there was one.
   */
  open(saga: { orderId: string; customerId: string; deadline: string }): Promise<SagaStatus | undefined>;
  /** Notes a customer's cancel; returns the saga's status, or undefined when no saga is known yet. */
  requestCancel(orderId: string): Promise<SagaStatus | undefined>;
  isCancelRequested(orderId: string): Promise<boolean>;
  stepStarted(orderId: string, step: StepName): Promise<void>;
  /** Notes a failed attempt that will be retried (participant down). */
  stepRetrying(orderId: string, step: StepName, error: string): Promise<void>;
  /**
   * Ends a running step; a step already ended (e.g. timed out) keeps its status. `then`, in the same
   * statement: as `stepStarted` for the next step, or as `setStatus` to the saga's completion.
   */
  stepEnded(
    orderId: string,
    step: StepName,
    status: StepStatus,
    detail: Record<string, unknown>,
    then?: AfterStep,
  ): Promise<void>;
  setStatus(orderId: string, status: SagaStatus, reason?: CancellationReason): Promise<void>;
  /**
   * Settles, once, whether a saga whose charge may have gone through confirms the sale or
   * compensates it, and returns what was settled: the first caller's `decision`, whoever asks later.
   * Version 4's one activity asks `confirm` before it commits; the workflow asks `compensate` when
   * the step deadline or the customer's cancel stopped it waiting for that activity. When `decision`
   * is what was settled, `thenStart` is started in the same statement, as `stepStarted` would.
   */
  decide(orderId: string, decision: SagaDecision, thenStart?: StepName): Promise<SagaDecision>;
  get(orderId: string): Promise<SagaRecord | undefined>;
  list(query: { status?: SagaStatus; limit: number; cursor?: string }): Promise<SagaListPage>;
}
