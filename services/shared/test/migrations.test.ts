import { connectPostgres, DatabaseNewerThanCodeError, migrateDatabase } from '@ecom/shared';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { scratchDatabase, type ScratchDatabase } from '../../../stack/test/support/scratch-database';

/** A service's own second version: a table of its own after the outbox's. */
class Widgets1764633699999 implements MigrationInterface {
  name = 'Widgets1764633699999';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE widgets (id int PRIMARY KEY)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE widgets');
  }
}

describe('versioned schema migrations on PostgreSQL', () => {
  let db: ScratchDatabase;
  const open: DataSource[] = [];
  const connect = async () => {
    const ds = await connectPostgres({
      url: db.url,
      entities: [],
      migrations: [Widgets1764633699999],
      poolSize: 2,
    });
    open.push(ds);
    return ds;
  };

  beforeEach(async () => {
    db = await scratchDatabase('migrations_test');
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((ds) => ds.destroy()));
    await db.drop();
  });

  it('applies every migration once, in order; a second start has nothing to do', async () => {
    const first = await connect();
    expect(await migrateDatabase(first, 'widgets')).toEqual([
      'OutboxTables1764633600000',
      'Widgets1764633699999',
    ]);
    expect(await migrateDatabase(await connect(), 'widgets')).toEqual([]);
    const tables = await first.query<{ table_name: string }[]>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(['inbox', 'migrations', 'outbox', 'widgets']);
  });

  it('lets replicas starting together take turns: each migration runs exactly once', async () => {
    const replicas = await Promise.all([connect(), connect(), connect(), connect()]);
    const applied = await Promise.all(replicas.map((ds) => migrateDatabase(ds, 'widgets')));
    expect(applied.flat().sort()).toEqual(['OutboxTables1764633600000', 'Widgets1764633699999']);
  });

  it('refuses a database migrated by a newer release, naming what it does not know', async () => {
    const newer = await connect();
    await migrateDatabase(newer, 'widgets');
    // The previous release knows the outbox's migration only.
    const older = await connectPostgres({ url: db.url, entities: [], poolSize: 1 });
    open.push(older);
    await expect(migrateDatabase(older, 'widgets')).rejects.toThrow(DatabaseNewerThanCodeError);
    await expect(migrateDatabase(older, 'widgets')).rejects.toThrow(/Widgets1764633699999.*newer release/);
    // A refusal releases the lock: the newer release still starts.
    expect(await migrateDatabase(newer, 'widgets')).toEqual([]);
  });
});
