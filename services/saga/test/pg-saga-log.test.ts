import { randomUUID } from 'node:crypto';
import { connectPostgres, migrateDatabase } from '@ecom/shared';
import type { DataSource } from 'typeorm';
import { scratchDatabase, type ScratchDatabase } from '../../../stack/test/support/scratch-database';
import { sagaEntities } from '../src/store/entities';
import { sagaMigrations } from '../src/store/migrations';
import { PgSagaLog } from '../src/store/pg-saga-log';

/**
 * The saga log against the stack's real PostgreSQL, in a scratch database migrated as the service
 * migrates its own: its entities describe the migrated tables exactly, and every write keeps its
 * concurrency rules (placeholders, counted attempts, ended steps and final statuses left alone).
 */
describe('the saga log on PostgreSQL', () => {
  let db: ScratchDatabase;
  let dataSource: DataSource;
  let log: PgSagaLog;
  const deadline = '2030-01-01T00:00:00.000Z';

  beforeAll(async () => {
    db = await scratchDatabase('saga_log_test');
    dataSource = await connectPostgres({
      url: db.url,
      entities: sagaEntities,
      migrations: sagaMigrations,
      sqlOutbox: false,
      poolSize: 10,
    });
    await migrateDatabase(dataSource, 'saga');
    log = new PgSagaLog(dataSource);
  });

  afterAll(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('has entities that match its migration: typeorm would change nothing', async () => {
    const diff = await dataSource.driver.createSchemaBuilder().log();
    expect(diff.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('keeps a cancel that came first as a placeholder, which the saga fills in once', async () => {
    const orderId = randomUUID();
    expect(await log.requestCancel(orderId)).toBeUndefined();
    expect(await log.requestCancel(orderId)).toBe('RUNNING');
    expect(await log.get(orderId)).toBeUndefined();
    expect(await log.isCancelRequested(orderId)).toBe(true);

    expect(await log.open({ orderId, customerId: 'first', deadline })).toBe('RUNNING');
    await log.setStatus(orderId, 'COMPENSATING', 'customer_cancelled');
    expect(await log.open({ orderId, customerId: 'second', deadline: '2031-01-01T00:00:00.000Z' })).toBe(
      'COMPENSATING',
    );
    expect(await log.get(orderId)).toMatchObject({ customerId: 'first', deadline, cancelRequested: true });
  });

  it('counts every start of a step, concurrent ones included', async () => {
    const orderId = randomUUID();
    await log.open({ orderId, customerId: 'c', deadline });
    await Promise.all(Array.from({ length: 12 }, () => log.stepStarted(orderId, 'reserve_stock')));
    expect((await log.get(orderId))?.steps).toMatchObject([
      { name: 'reserve_stock', status: 'RUNNING', attempts: 12, endedAt: null, detail: {} },
    ]);
  });

  it('ends a running step once and notes errors only while it runs', async () => {
    const orderId = randomUUID();
    await log.open({ orderId, customerId: 'c', deadline });
    await log.stepStarted(orderId, 'charge_payment');
    await log.stepRetrying(orderId, 'charge_payment', "payment isn't there");
    await log.stepEnded(orderId, 'charge_payment', 'COMPLETED', { paymentId: 'p-1' });
    await log.stepEnded(orderId, 'charge_payment', 'TIMED_OUT', { late: true });
    await log.stepRetrying(orderId, 'charge_payment', 'after the end');

    const [step] = (await log.get(orderId))?.steps ?? [];
    expect(step).toMatchObject({
      status: 'COMPLETED',
      detail: { paymentId: 'p-1', lastError: "payment isn't there" },
    });
    expect(Date.parse(step?.endedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(step?.startedAt ?? ''));
  });

  it('keeps the first reason while compensating and never leaves a final status', async () => {
    const orderId = randomUUID();
    await log.open({ orderId, customerId: 'c', deadline });
    await log.setStatus(orderId, 'COMPENSATING', 'payment_declined');
    await log.setStatus(orderId, 'COMPENSATING', 'deadline_exceeded');
    await log.setStatus(orderId, 'COMPENSATED');
    await log.setStatus(orderId, 'RUNNING', 'saga_error');
    expect(await log.get(orderId)).toMatchObject({ status: 'COMPENSATED', reason: 'payment_declined' });
    // A redelivered order_created learns it from open(), and the service starts nothing.
    expect(await log.open({ orderId, customerId: 'c', deadline })).toBe('COMPENSATED');
  });

  it('settles a charged saga once: of a confirm and a compensate racing, both get the winner', async () => {
    for (let round = 0; round < 20; round += 1) {
      const orderId = randomUUID();
      await log.open({ orderId, customerId: 'c', deadline });
      const answers = await Promise.all([log.decide(orderId, 'confirm'), log.decide(orderId, 'compensate')]);
      expect(answers[0]).toBe(answers[1]);
      expect(await log.decide(orderId, answers[0] === 'confirm' ? 'compensate' : 'confirm')).toBe(answers[0]);
    }
    await expect(log.decide(randomUUID(), 'confirm')).rejects.toThrow(/no saga is recorded/);
  });

  it('lists newest first a page at a time, sagas created in the same millisecond included', async () => {
    const orderIds = Array.from({ length: 3 }, () => randomUUID());
    for (const orderId of orderIds) await log.open({ orderId, customerId: 'c', deadline });
    await log.requestCancel(randomUUID());
    // The cursor's tie-breaker: one creation time for all three, later than every other saga's
    // (statement_timestamp(), not clock_timestamp(), which moves between rows of one UPDATE).
    await dataSource.query(
      `UPDATE saga SET created_at = date_trunc('milliseconds', statement_timestamp()) + interval '1 day'
       WHERE order_id = ANY($1::uuid[])`,
      [orderIds],
    );
    await log.setStatus(orderIds[1] ?? '', 'COMPLETED');

    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 3; page++) {
      const listed = await log.list({ limit: 1, ...(cursor === undefined ? {} : { cursor }) });
      seen.push(...listed.items.map((s) => s.orderId));
      cursor = listed.nextCursor ?? undefined;
    }
    expect(seen).toEqual([...orderIds].sort().reverse());
    const completed = await log.list({ status: 'COMPLETED', limit: 10 });
    expect(completed).toEqual({
      items: [expect.objectContaining({ orderId: orderIds[1] })],
      nextCursor: null,
    });
  });

  // After the listing, which counts every COMPLETED saga of the database.
  it('ends a step and starts the next, or completes the saga, in one statement, with the same rules', async () => {
    const orderId = randomUUID();
    await log.open({ orderId, customerId: 'c', deadline });
    await log.stepStarted(orderId, 'commit_stock');
    await log.stepEnded(orderId, 'commit_stock', 'COMPLETED', { ok: 1 }, { start: 'mark_paid' });
    // Ending it again changes nothing of it, and counts another start of the next step, as stepStarted would.
    await log.stepEnded(orderId, 'commit_stock', 'FAILED', { late: true }, { start: 'mark_paid' });
    await log.stepEnded(orderId, 'mark_paid', 'COMPLETED', {}, { sagaStatus: 'COMPLETED' });
    const saga = await log.get(orderId);
    expect(saga?.status).toBe('COMPLETED');
    expect(saga?.steps).toMatchObject([
      { name: 'commit_stock', status: 'COMPLETED', detail: { ok: 1 } },
      { name: 'mark_paid', status: 'COMPLETED', attempts: 2 },
    ]);

    // The saga's completion never leaves a final status.
    const compensated = randomUUID();
    await log.open({ orderId: compensated, customerId: 'c', deadline });
    await log.setStatus(compensated, 'COMPENSATED', 'payment_declined');
    await log.stepStarted(compensated, 'mark_paid');
    await log.stepEnded(compensated, 'mark_paid', 'COMPLETED', {}, { sagaStatus: 'COMPLETED' });
    expect(await log.get(compensated)).toMatchObject({
      status: 'COMPENSATED',
      steps: [{ status: 'COMPLETED' }],
    });
  });

  it('starts the next step with a settlement only for the caller whose decision stands', async () => {
    const compensating = randomUUID();
    await log.open({ orderId: compensating, customerId: 'c', deadline });
    expect(await log.decide(compensating, 'compensate')).toBe('compensate');
    expect(await log.decide(compensating, 'confirm', 'commit_stock')).toBe('compensate');
    expect((await log.get(compensating))?.steps).toEqual([]);

    for (let round = 0; round < 10; round += 1) {
      const orderId = randomUUID();
      await log.open({ orderId, customerId: 'c', deadline });
      const [confirmed] = await Promise.all([
        log.decide(orderId, 'confirm', 'commit_stock'),
        log.decide(orderId, 'compensate'),
      ]);
      const steps = (await log.get(orderId))?.steps ?? [];
      expect(steps).toEqual(
        confirmed === 'confirm' ? [expect.objectContaining({ name: 'commit_stock', status: 'RUNNING' })] : [],
      );
    }
  });
});
