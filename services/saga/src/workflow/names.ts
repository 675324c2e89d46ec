import { stepNames } from '../domain/saga';

/** Registered names: the workflow, its activities and its external event (never a function's `name`). */
export const ORDER_SAGA_WORKFLOW = 'order_saga';

/** Dapr lowercases external event names; keep this one lowercase so raise and wait agree. */
export const CANCEL_EVENT = 'cancel';

export const activityNames = {
  ...stepNames,
  /** Notes in the saga log that a step was abandoned (timed out or cancelled). */
  recordStep: 'record_step',
  /** Notes a saga's final status when no participant call did (a failed saga). */
  recordSaga: 'record_saga',
  /**
   * Version 2's confirmation: commits the stock, then marks the order paid, in one activity (one
   * workflow round trip fewer per order). Both steps stay in the saga log under their own names.
   */
  confirmOrder: 'confirm_order',
  /**
   * Version 3's forward path: reserves the stock, then charges when the reservation holds, in one
   * activity (one workflow round trip and one deadline timer fewer per order). Both steps stay in the
   * saga log under their own names.
   */
  reserveAndCharge: 'reserve_and_charge',
  /**
   * Version 4's whole forward path: reserve_and_charge, then, once the charge stands and the saga log
   * settles on the sale, confirm_order: one activity and one workflow round trip per paid order.
   */
  reserveChargeConfirm: 'reserve_charge_confirm',
  /** Settles a charged saga on compensation when the workflow stopped waiting (`SagaLog.decide`). */
  decide: 'decide',
} as const;
export type ActivityName = (typeof activityNames)[keyof typeof activityNames];

/**
 * What every activity returns instead of throwing: `retry` when the participant
 * could not be reached (the workflow backs off and tries again), `rejected` when
 * it refused definitively (a 4xx such as 409; `kind` is the error kind).
 */
export type ActivityResult<T> =
  | { status: 'ok'; value: T }
  | { status: 'retry'; error: string }
  | { status: 'rejected'; error: string; kind?: string };
