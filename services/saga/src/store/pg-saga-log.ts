import { cursorCodec, isoInstant, sqlRows } from '@ecom/shared';
import { Not, type DataSource, type Repository } from 'typeorm';
import { z } from 'zod';
import {
  finalSagaStatuses,
  type CancellationReason,
  type SagaDecision,
  type SagaStatus,
  type StepName,
  type StepStatus,
} from '../domain/saga';
import type { AfterStep, SagaListPage, SagaLog, SagaRecord, SagaStepRecord } from '../domain/saga-log';
import { SagaEntity, SagaStepEntity, type SagaRow, type SagaStepRow } from './entities';

function toSaga(row: SagaRow): Omit<SagaRecord, 'steps'> {
  return {
    orderId: row.orderId,
    customerId: row.customerId,
    status: row.status,
    reason: row.reason,
    cancelRequested: row.cancelRequested,
    deadline: row.deadline?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function toStep(row: SagaStepRow): SagaStepRecord {
  return {
    name: row.name,
    status: row.status,
    startedAt: row.startedAt.toISOString(),
    endedAt: row.endedAt?.toISOString() ?? null,
    attempts: row.attempts,
    detail: row.detail,
  };
}

/**
 * Starts a step of the saga in `$1`, named by the parameter `name`, for each row of `from` (one
 * when empty): the attempt is counted under the row's lock, so concurrent starts each add theirs.
 */
function startStep(name: string, from = ''): string {
  return `INSERT INTO saga_step (order_id, name, status) SELECT $1::uuid, ${name}::text, 'RUNNING' ${from}
       ON CONFLICT (order_id, name) DO UPDATE SET attempts = saga_step.attempts + 1`;
}

/**
 * Moves the saga in `$1` to a status: a final status is never left again, and a compensating saga
 * keeps the first reason it got. The arguments name the parameters (or NULL).
 */
function setSagaStatus(status: string, reason: string, finals: string): string {
  return `UPDATE saga SET status = ${status}, reason = COALESCE(reason, ${reason}), updated_at = now()
       WHERE order_id = $1 AND status <> ALL (${finals}::text[])`;
}

/** Opaque keyset cursor over (created_at, order_id), newest first. */
const sagaCursor = cursorCodec(z.tuple([isoInstant, z.guid()]));

/**
 * The saga log in the saga service's own PostgreSQL database (entities.ts). Every change decides in
 * the database, under the row's lock (an upsert, an insert unless present, a conditional UPDATE),
 * never from a value read before: the workflow's activities, their retries and the customer's
 * cancel all write here concurrently. The statements of a saga's course are SQL, one round trip
 * each: each runs several times per order, and typeorm's query builder cost the saga about a seventh of
 * its JavaScript time; reads for the API (get, list) go through the repositories.
 */
export class PgSagaLog implements SagaLog {
  private readonly sagas: Repository<SagaRow>;
  private readonly steps: Repository<SagaStepRow>;

  constructor(private readonly db: DataSource) {
    this.sagas = db.getRepository(SagaEntity);
    this.steps = db.getRepository(SagaStepEntity);
  }

  async open(saga: {
    orderId: string;
    customerId: string;
    deadline: string;
  }): Promise<SagaStatus | undefined> {
    // A cancel may have arrived first and left a placeholder row: fill in what it could not know.
    // The status comes back in the same statement: the inserted or filled-in row's, else the row
    // that was there already.
    const [row] = await sqlRows<{ status: SagaStatus }>(
      this.db.manager,
      `WITH opened AS (
         INSERT INTO saga (order_id, customer_id, deadline) VALUES ($1, $2, $3)
         ON CONFLICT (order_id) DO UPDATE
           SET customer_id = EXCLUDED.customer_id, deadline = EXCLUDED.deadline
           WHERE saga.customer_id = ''
         RETURNING status)
       SELECT status FROM opened
       UNION ALL
       SELECT status FROM saga WHERE order_id = $1 AND NOT EXISTS (SELECT 1 FROM opened)`,
      [saga.orderId, saga.customerId, saga.deadline],
    );
    return row?.status;
  }

  async requestCancel(orderId: string): Promise<SagaStatus | undefined> {
    // A placeholder when the saga is not known yet. On a conflict `updated_at` takes the proposed
    // row's, its default now(). Whether this statement inserted the row can only come from the
    // statement itself: `xmax = 0` holds for a row it inserted, not for one it updated.
    const [row] = await sqlRows<{ status: SagaStatus; inserted: boolean }>(
      this.db.manager,
      `INSERT INTO saga (order_id, customer_id, cancel_requested) VALUES ($1, '', true)
       ON CONFLICT (order_id) DO UPDATE
         SET cancel_requested = EXCLUDED.cancel_requested, updated_at = EXCLUDED.updated_at
       RETURNING status, (xmax = 0) AS inserted`,
      [orderId],
    );
    return row && !row.inserted ? row.status : undefined;
  }

  async isCancelRequested(orderId: string): Promise<boolean> {
    const [row] = await sqlRows<{ cancel_requested: boolean }>(
      this.db.manager,
      'SELECT cancel_requested FROM saga WHERE order_id = $1',
      [orderId],
    );
    return row?.cancel_requested ?? false;
  }

  async stepStarted(orderId: string, step: StepName): Promise<void> {
    await sqlRows(this.db.manager, startStep('$2'), [orderId, step]);
  }

  async stepRetrying(orderId: string, step: StepName, error: string): Promise<void> {
    await sqlRows(
      this.db.manager,
      `UPDATE saga_step
         SET detail = detail || jsonb_build_object('lastError', $3::text, 'lastErrorAt', clock_timestamp())
       WHERE order_id = $1 AND name = $2 AND status = 'RUNNING'`,
      [orderId, step, error],
    );
  }

  async stepEnded(
    orderId: string,
    step: StepName,
    status: StepStatus,
    detail: Record<string, unknown>,
    then?: AfterStep,
  ): Promise<void> {
    const end = `UPDATE saga_step SET status = $3, ended_at = clock_timestamp(), detail = detail || $4::jsonb
       WHERE order_id = $1 AND name = $2 AND status = 'RUNNING'`;
    const params = [orderId, step, status, JSON.stringify(detail)];
    if (then === undefined) {
      await sqlRows(this.db.manager, end, params);
    } else if ('start' in then) {
      // Two rows of saga_step, never the same one: the ended step and the next.
      await sqlRows(this.db.manager, `WITH ended AS (${end} RETURNING 1) ${startStep('$5')}`, [
        ...params,
        then.start,
      ]);
    } else {
      await sqlRows(
        this.db.manager,
        `WITH ended AS (${end} RETURNING 1) ${setSagaStatus('$5', 'NULL', '$6')}`,
        [...params, then.sagaStatus, finalSagaStatuses],
      );
    }
  }

  async setStatus(orderId: string, status: SagaStatus, reason?: CancellationReason): Promise<void> {
    await sqlRows(this.db.manager, setSagaStatus('$2', '$3', '$4'), [
      orderId,
      status,
      reason ?? null,
      finalSagaStatuses,
    ]);
  }

  async decide(orderId: string, decision: SagaDecision, thenStart?: StepName): Promise<SagaDecision> {
    // Under the row's lock: of two callers racing, the second waits, then re-reads the row the first
    // wrote and keeps its decision. The next step starts only for the caller whose decision stands.
    const decide = 'UPDATE saga SET decision = COALESCE(decision, $2) WHERE order_id = $1 RETURNING decision';
    const [row] = await sqlRows<{ decision: SagaDecision }>(
      this.db.manager,
      thenStart === undefined
        ? decide
        : `WITH decided AS (${decide}),
           started AS (${startStep('$3', 'FROM decided WHERE decided.decision = $2')})
           SELECT decision FROM decided`,
      [orderId, decision, ...(thenStart === undefined ? [] : [thenStart])],
    );
    if (!row) throw new Error(`no saga is recorded for order ${orderId}`);
    return row.decision;
  }

  async get(orderId: string): Promise<SagaRecord | undefined> {
    const row = await this.sagas.findOne({ where: { orderId, customerId: Not('') } });
    if (!row) return undefined;
    const steps = await this.steps.find({ where: { orderId }, order: { startedAt: 'ASC', name: 'ASC' } });
    return { ...toSaga(row), steps: steps.map(toStep) };
  }

  async list(query: { status?: SagaStatus; limit: number; cursor?: string }): Promise<SagaListPage> {
    const after = query.cursor === undefined ? undefined : sagaCursor.decode(query.cursor);
    const select = this.sagas.createQueryBuilder('saga').where("saga.customerId <> ''");
    if (query.status !== undefined) select.andWhere('saga.status = :status', { status: query.status });
    if (after !== undefined) {
      select.andWhere(
        '(saga.createdAt, saga.orderId) < (CAST(:afterCreatedAt AS timestamptz), CAST(:afterOrderId AS uuid))',
        { afterCreatedAt: after[0], afterOrderId: after[1] },
      );
    }
    const found = await select
      .orderBy('saga.createdAt', 'DESC')
      .addOrderBy('saga.orderId', 'DESC')
      .limit(query.limit + 1)
      .getMany();
    const rows = found.slice(0, query.limit);
    const last = rows[rows.length - 1];
    return {
      items: rows.map(toSaga),
      nextCursor:
        found.length > query.limit && last ? sagaCursor.encode([last.createdAt, last.orderId]) : null,
    };
  }
}
