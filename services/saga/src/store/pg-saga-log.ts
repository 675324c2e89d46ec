import { cursorCodec, isoInstant } from '@ecom/shared';
import { In, Not, type DataSource, type Repository } from 'typeorm';
import { z } from 'zod';
import {
  finalSagaStatuses,
  type CancellationReason,
  type SagaStatus,
  type StepName,
  type StepStatus,
} from '../domain/saga';
import type { SagaListPage, SagaLog, SagaRecord, SagaStepRecord } from '../domain/saga-log';
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

/** Opaque keyset cursor over (created_at, order_id), newest first. */
const sagaCursor = cursorCodec(z.tuple([isoInstant, z.guid()]));

/**
 * The saga log in the saga service's own PostgreSQL database (entities.ts). Every change decides in
 * the database, under the row's lock (an upsert, an insert unless present, a conditional UPDATE),
 * never from a value read before: the workflow's activities, their retries and the customer's
 * cancel all write here concurrently.
 */
export class PgSagaLog implements SagaLog {
  private readonly sagas: Repository<SagaRow>;
  private readonly steps: Repository<SagaStepRow>;

  constructor(db: DataSource) {
    this.sagas = db.getRepository(SagaEntity);
    this.steps = db.getRepository(SagaStepEntity);
  }

  async open(saga: { orderId: string; customerId: string; deadline: string }): Promise<void> {
    // A cancel may have arrived first and left a placeholder row: fill in what it could not know.
    await this.sagas
      .createQueryBuilder()
      .insert()
      .values({ orderId: saga.orderId, customerId: saga.customerId, deadline: new Date(saga.deadline) })
      .orUpdate(['customer_id', 'deadline'], ['order_id'], {
        overwriteCondition: { where: { customerId: '' } },
      })
      .updateEntity(false)
      .execute();
  }

  async requestCancel(orderId: string): Promise<SagaStatus | undefined> {
    // A placeholder when the saga is not known yet. On a conflict `updated_at` takes the proposed
    // row's, its default now(). Whether this statement inserted the row can only come from the
    // statement itself: `xmax = 0` holds for a row it inserted, not for one it updated. That is an
    // expression, not a column, so this RETURNING list is SQL.
    const result = await this.sagas
      .createQueryBuilder()
      .insert()
      .values({ orderId, customerId: '', cancelRequested: true })
      .orUpdate(['cancel_requested', 'updated_at'], ['order_id'])
      .returning('status, (xmax = 0) AS inserted')
      .updateEntity(false)
      .execute();
    const [row] = result.raw as { status: SagaStatus; inserted: boolean }[];
    return row && !row.inserted ? row.status : undefined;
  }

  async isCancelRequested(orderId: string): Promise<boolean> {
    const row = await this.sagas.findOne({ select: { cancelRequested: true }, where: { orderId } });
    return row?.cancelRequested ?? false;
  }

  async statusOf(orderId: string): Promise<SagaStatus | undefined> {
    const row = await this.sagas.findOne({ select: { status: true }, where: { orderId } });
    return row?.status;
  }

  async stepStarted(orderId: string, step: StepName): Promise<void> {
    // The upsert's `attempts = saga_step.attempts + 1` is out of orUpdate's reach (it only copies
    // EXCLUDED values), so: insert unless the step exists, then count one more attempt in an
    // UPDATE evaluated under the row's lock. Rows are never deleted, so the UPDATE always finds
    // the row the INSERT met, and concurrent starts each add their attempt: no increment is lost.
    const inserted = await this.steps
      .createQueryBuilder()
      .insert()
      .values({ orderId, name: step, status: 'RUNNING' })
      .orIgnore()
      .returning('order_id')
      .updateEntity(false)
      .execute();
    if ((inserted.raw as unknown[]).length > 0) return;
    await this.steps
      .createQueryBuilder()
      .update()
      .set({ attempts: () => 'attempts + 1' })
      .where({ orderId, name: step })
      .execute();
  }

  async stepRetrying(orderId: string, step: StepName, error: string): Promise<void> {
    await this.steps
      .createQueryBuilder()
      .update()
      .set({
        detail: () =>
          "detail || jsonb_build_object('lastError', CAST(:error AS text), 'lastErrorAt', clock_timestamp())",
      })
      .where({ orderId, name: step, status: 'RUNNING' })
      .setParameter('error', error)
      .execute();
  }

  async stepEnded(
    orderId: string,
    step: StepName,
    status: StepStatus,
    detail: Record<string, unknown>,
  ): Promise<void> {
    // jsonb merges in SQL; typeorm's value types do not model a jsonb parameter in an expression.
    await this.steps
      .createQueryBuilder()
      .update()
      .set({
        status,
        endedAt: () => 'clock_timestamp()',
        detail: () => 'detail || CAST(:detail AS jsonb)',
      })
      .where({ orderId, name: step, status: 'RUNNING' })
      .setParameter('detail', JSON.stringify(detail))
      .execute();
  }

  async setStatus(orderId: string, status: SagaStatus, reason?: CancellationReason): Promise<void> {
    // A final status is never left again; a compensating saga keeps the first reason it got.
    await this.sagas
      .createQueryBuilder()
      .update()
      .set({ status, reason: () => 'COALESCE(reason, :reason)', updatedAt: () => 'now()' })
      .where({ orderId, status: Not(In(finalSagaStatuses)) })
      .setParameter('reason', reason ?? null)
      .execute();
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
