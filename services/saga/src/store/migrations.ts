import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Version 1 of the saga log: one row per order's saga and one per step. `IF NOT EXISTS` adopts the
 * databases where earlier releases ran this DDL at every start.
 */
export class SagaLogSchema1764633600002 implements MigrationInterface {
  name = 'SagaLogSchema1764633600002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE TABLE IF NOT EXISTS saga (
  order_id uuid PRIMARY KEY,
  customer_id text NOT NULL,
  status text NOT NULL DEFAULT 'RUNNING'
    CHECK (status IN ('RUNNING','COMPENSATING','COMPLETED','COMPENSATED','FAILED')),
  reason text,
  cancel_requested boolean NOT NULL DEFAULT false,
  deadline timestamptz,
  -- Millisecond precision: the list cursor carries it as an ISO string.
  created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS saga_status_created ON saga (status, created_at, order_id);
CREATE INDEX IF NOT EXISTS saga_created ON saga (created_at, order_id);
CREATE TABLE IF NOT EXISTS saga_step (
  order_id uuid NOT NULL,
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('RUNNING','COMPLETED','FAILED','TIMED_OUT','CANCELLED')),
  started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  ended_at timestamptz,
  attempts integer NOT NULL DEFAULT 1,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (order_id, name)
);
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS saga_step');
    await q.query('DROP TABLE IF EXISTS saga');
  }
}

/**
 * Version 2: `saga.decision`, settled once per saga by whichever comes first, version 4's activity
 * about to confirm the sale or the workflow about to compensate it (`SagaLog.decide`).
 */
export class SagaDecision1796400000000 implements MigrationInterface {
  name = 'SagaDecision1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
ALTER TABLE saga ADD COLUMN IF NOT EXISTS decision text
  CONSTRAINT saga_decision_check CHECK (decision IN ('confirm','compensate'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE saga DROP COLUMN IF EXISTS decision');
  }
}

export const sagaMigrations = [SagaLogSchema1764633600002, SagaDecision1796400000000];
