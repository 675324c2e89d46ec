import { cursorCodec, isoInstant, sqlRows } from '@ecom/shared';
import type { DataSource } from 'typeorm';
import { z } from 'zod';
import type { CancellationReason, SagaStatus, StepName, StepStatus } from '../domain/saga';
import type { SagaListPage, SagaLog, SagaRecord, SagaStepRecord } from '../domain/saga-log';

interface SagaRow {
  order_id: string;
  customer_id: string;
  status: SagaStatus;
  reason: CancellationReason | null;
  cancel_requested: boolean;
  deadline: Date | null;
  created_at: Date;
  updated_at: Date;
}

interface StepRow {
  name: StepName;
  status: StepStatus;
  started_at: Date;
  ended_at: Date | null;
  attempts: number;
  detail: Record<string, unknown>;
}

const final = "('COMPLETED','COMPENSATED','FAILED')";

function toSaga(row: SagaRow): Omit<SagaRecord, 'steps'> {
  return {
    orderId: row.order_id,
    customerId: row.customer_id,
    status: row.status,
    reason: row.reason,
    cancelRequested: row.cancel_requested,
    deadline: row.deadline?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toStep(row: StepRow): SagaStepRecord {
  return {
    name: row.name,
    status: row.status,
    startedAt: row.started_at.toISOString(),
    endedAt: row.ended_at?.toISOString() ?? null,
    attempts: row.attempts,
    detail: row.detail,
  };
}

/** Opaque keyset cursor over (created_at, order_id), newest first. */
const sagaCursor = cursorCodec(z.tuple([isoInstant, z.guid()]));

/** The saga log in the saga service's own PostgreSQL database. */
export class PgSagaLog implements SagaLog {
  constructor(private readonly db: DataSource) {}

  /** One statement's rows, through the bootstrap's pool (typeorm's own shapes differ per statement kind). */
  private rows<T>(sql: string, params: unknown[]): Promise<T[]> {
    return sqlRows<T>(this.db.manager, sql, params);
  }

  async open(saga: { orderId: string; customerId: string; deadline: string }): Promise<void> {
    // A cancel may have arrived first and left a placeholder row: fill in what it could not know.
    await this.rows(
      `INSERT INTO saga (order_id, customer_id, deadline) VALUES ($1, $2, $3)
       ON CONFLICT (order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id, deadline = EXCLUDED.deadline
       WHERE saga.customer_id = ''`,
      [saga.orderId, saga.customerId, saga.deadline],
    );
  }

  async requestCancel(orderId: string): Promise<SagaStatus | undefined> {
    const [row] = await this.rows<{ status: SagaStatus; inserted: boolean }>(
      `INSERT INTO saga (order_id, customer_id, cancel_requested) VALUES ($1, '', true)
       ON CONFLICT (order_id) DO UPDATE SET cancel_requested = true, updated_at = now()
       RETURNING status, (xmax = 0) AS inserted`,
      [orderId],
    );
    return row && !row.inserted ? row.status : undefined;
  }

  async isCancelRequested(orderId: string): Promise<boolean> {
    const [row] = await this.rows<{ cancel_requested: boolean }>(
      'SELECT cancel_requested FROM saga WHERE order_id = $1',
      [orderId],
    );
    return row?.cancel_requested ?? false;
  }

  async statusOf(orderId: string): Promise<SagaStatus | undefined> {
    const [row] = await this.rows<{ status: SagaStatus }>('SELECT status FROM saga WHERE order_id = $1', [
      orderId,
    ]);
    return row?.status;
  }

  async stepStarted(orderId: string, step: StepName): Promise<void> {
    await this.rows(
      `INSERT INTO saga_step (order_id, name, status) VALUES ($1, $2, 'RUNNING')
       ON CONFLICT (order_id, name) DO UPDATE SET attempts = saga_step.attempts + 1`,
      [orderId, step],
    );
  }

  async stepRetrying(orderId: string, step: StepName, error: string): Promise<void> {
    await this.rows(
      `UPDATE saga_step SET detail = detail || jsonb_build_object('lastError', $3::text, 'lastErrorAt', clock_timestamp())
       WHERE order_id = $1 AND name = $2 AND status = 'RUNNING'`,
      [orderId, step, error],
    );
  }

  async stepEnded(
    orderId: string,
    step: StepName,
    status: StepStatus,
    detail: Record<string, unknown>,
  ): Promise<void> {
    await this.rows(
      `UPDATE saga_step SET status = $3, ended_at = clock_timestamp(), detail = detail || $4::jsonb
       WHERE order_id = $1 AND name = $2 AND status = 'RUNNING'`,
      [orderId, step, status, JSON.stringify(detail)],
    );
  }

  async setStatus(orderId: string, status: SagaStatus, reason?: CancellationReason): Promise<void> {
    // A final status is never left again; a compensating saga keeps the first reason it got.
    await this.rows(
      `UPDATE saga SET status = $2, reason = COALESCE(reason, $3), updated_at = now()
       WHERE order_id = $1 AND status NOT IN ${final}`,
      [orderId, status, reason ?? null],
    );
  }

  async get(orderId: string): Promise<SagaRecord | undefined> {
    const [row] = await this.rows<SagaRow>("SELECT * FROM saga WHERE order_id = $1 AND customer_id <> ''", [
      orderId,
    ]);
    if (!row) return undefined;
    const steps = await this.rows<StepRow>(
      'SELECT name, status, started_at, ended_at, attempts, detail FROM saga_step WHERE order_id = $1 ORDER BY started_at, name',
      [orderId],
    );
    return { ...toSaga(row), steps: steps.map(toStep) };
  }

  async list(query: { status?: SagaStatus; limit: number; cursor?: string }): Promise<SagaListPage> {
    const after = query.cursor === undefined ? undefined : sagaCursor.decode(query.cursor);
    const found = await this.rows<SagaRow>(
      `SELECT * FROM saga
       WHERE customer_id <> '' AND ($1::text IS NULL OR status = $1)
         AND ($2::timestamptz IS NULL OR (created_at, order_id) < ($2::timestamptz, $3::uuid))
       ORDER BY created_at DESC, order_id DESC LIMIT $4`,
      [query.status ?? null, after?.[0] ?? null, after?.[1] ?? null, query.limit + 1],
    );
    const rows = found.slice(0, query.limit);
    const last = rows[rows.length - 1];
    return {
      items: rows.map(toSaga),
      nextCursor:
        found.length > query.limit && last ? sagaCursor.encode([last.created_at, last.order_id]) : null,
    };
  }
}
