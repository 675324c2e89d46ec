import { EntitySchema } from 'typeorm';
import type { CancellationReason, SagaDecision, SagaStatus, StepName, StepStatus } from '../domain/saga';

/**
 * The saga log's tables as typeorm sees them. The schema itself is the migration's
 * (migrations.ts): these mirror it column for column, its defaults and CHECK
 * constraints (under the names PostgreSQL gave them) and its indexes, so that typeorm's schema
 * diff finds nothing to change. EntitySchema, like inventory's: the local stack runs the
 * services through tsx, which emits no decorator metadata.
 */

/** One order's saga. A customer's cancel that came first leaves a placeholder: `customerId` ''. */
export interface SagaRow {
  orderId: string;
  customerId: string;
  status: SagaStatus;
  reason: CancellationReason | null;
  cancelRequested: boolean;
  deadline: Date | null;
  /** Settled once: whether a charged saga confirms or compensates (migration version 2). */
  decision: SagaDecision | null;
  /** Millisecond precision: the list cursor carries it as an ISO string. */
  createdAt: Date;
  updatedAt: Date;
}

export const SagaEntity = new EntitySchema<SagaRow>({
  name: 'Saga',
  tableName: 'saga',
  columns: {
    orderId: { name: 'order_id', type: 'uuid', primary: true },
    customerId: { name: 'customer_id', type: 'text' },
    status: { type: 'text', default: 'RUNNING' },
    reason: { type: 'text', nullable: true },
    cancelRequested: { name: 'cancel_requested', type: 'boolean', default: false },
    deadline: { type: 'timestamptz', nullable: true },
    decision: { type: 'text', nullable: true },
    createdAt: {
      name: 'created_at',
      type: 'timestamptz',
      default: () => "date_trunc('milliseconds', clock_timestamp())",
    },
    updatedAt: { name: 'updated_at', type: 'timestamptz', default: () => 'now()' },
  },
  checks: [
    {
      name: 'saga_status_check',
      expression: `"status" IN ('RUNNING', 'COMPENSATING', 'COMPLETED', 'COMPENSATED', 'FAILED')`,
    },
    { name: 'saga_decision_check', expression: `"decision" IN ('confirm', 'compensate')` },
  ],
  indices: [
    { name: 'saga_status_created', columns: ['status', 'createdAt', 'orderId'] },
    { name: 'saga_created', columns: ['createdAt', 'orderId'] },
  ],
});

/** One step of a saga; a step started again counts one more attempt. */
export interface SagaStepRow {
  orderId: string;
  name: StepName;
  status: StepStatus;
  startedAt: Date;
  endedAt: Date | null;
  attempts: number;
  detail: Record<string, unknown>;
}

export const SagaStepEntity = new EntitySchema<SagaStepRow>({
  name: 'SagaStep',
  tableName: 'saga_step',
  columns: {
    orderId: { name: 'order_id', type: 'uuid', primary: true },
    name: { type: 'text', primary: true },
    status: { type: 'text' },
    startedAt: { name: 'started_at', type: 'timestamptz', default: () => 'clock_timestamp()' },
    endedAt: { name: 'ended_at', type: 'timestamptz', nullable: true },
    attempts: { type: 'int', default: 1 },
    detail: { type: 'jsonb', default: {} },
  },
  checks: [
    {
      name: 'saga_step_status_check',
      expression: `"status" IN ('RUNNING', 'COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED')`,
    },
  ],
});

export const sagaEntities = [SagaEntity, SagaStepEntity];
