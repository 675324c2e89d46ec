import { connectPostgres, sqlRows, STATEMENT_OVERRAN } from '@ecom/shared';
import type { DataSource } from 'typeorm';
import { isStoreUnavailable } from '../src/store/unavailable';
import { scratchDatabase, type ScratchDatabase } from '../../../stack/test/support/scratch-database';

/**
 * A PostgreSQL that stops answering, made real: the server process behind one pooled connection is
 * stopped (SIGSTOP) while the rest of the server keeps serving.
 */
describe('a statement PostgreSQL does not answer in time', () => {
  let db: ScratchDatabase;
  let ds: DataSource;
  const stopped: number[] = [];

  const backendPid = async (on: Pick<DataSource, 'query'>): Promise<number> =>
    (await on.query<{ pid: number }[]>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
  const stop = (pid: number) => {
    stopped.push(pid);
    process.kill(pid, 'SIGSTOP');
  };
  /** The statement fails with the bound's error, which counts as a passing unavailability. */
  const expectOverrun = async (statement: Promise<unknown>) => {
    const overrun = await statement.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect((overrun as Error).message).toContain(STATEMENT_OVERRAN);
    expect(isStoreUnavailable(overrun)).toBe(true);
  };

  beforeEach(async () => {
    db = await scratchDatabase('statement_bound_test');
    // One connection, so a statement overrunning on it is in the way of every later one.
    ds = await connectPostgres({
      url: db.url,
      entities: [],
      sqlOutbox: false,
      poolSize: 1,
      queryTimeoutMs: 400,
    });
    await ds.query('CREATE TABLE marks (id int PRIMARY KEY)');
  });

  afterEach(async () => {
    for (const pid of stopped.splice(0)) process.kill(pid, 'SIGCONT');
    await ds.destroy();
    await db.drop();
  });

  it('fails as a passing unavailability, and the pool serves the next statement on a fresh connection', async () => {
    const first = await backendPid(ds);
    stop(first);

    await expectOverrun(ds.query('SELECT 1'));

    // The stopped server process still holds its socket: the next statement runs elsewhere.
    const next = await backendPid(ds);
    expect(next).not.toBe(first);
  });

  it('bounds a statement the pool runs itself (a prepared one outside a transaction) the same way', async () => {
    const pidOf = async () =>
      (await sqlRows<{ pid: number }>(ds.manager, 'SELECT pg_backend_pid() AS pid'))[0]!.pid;
    const first = await pidOf();
    stop(first);

    await expectOverrun(sqlRows(ds.manager, 'SELECT 1 AS one'));
    expect(await pidOf()).not.toBe(first);
  });

  it('leaves no transaction open behind a statement that overran inside it', async () => {
    const attempt = ds.transaction(async (tx) => {
      await tx.query('INSERT INTO marks VALUES (1)');
      stop(await backendPid(tx));
      await tx.query('INSERT INTO marks VALUES (2)');
    });
    await expect(attempt).rejects.toThrow(STATEMENT_OVERRAN);

    // The next caller is outside any transaction: what it writes is committed and seen by others.
    await ds.query('INSERT INTO marks VALUES (3)');
    for (const pid of stopped.splice(0)) process.kill(pid, 'SIGCONT');
    const other = await connectPostgres({ url: db.url, entities: [], sqlOutbox: false, poolSize: 1 });
    try {
      const marks = await other.query<{ id: number }[]>('SELECT id FROM marks ORDER BY id');
      expect(marks.map((m) => m.id)).toEqual([3]);
    } finally {
      await other.destroy();
    }
  });
});
