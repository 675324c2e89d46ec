import type { DataSource, MigrationInterface } from 'typeorm';

/** A versioned schema change: a TypeORM migration class whose `name` ends in its version (a timestamp). */
export type MigrationClass = new () => MigrationInterface;

/** The database holds migrations this code does not know: it was migrated by a newer release. */
export class DatabaseNewerThanCodeError extends Error {
  constructor(database: string, unknown: string[]) {
    super(
      `the ${database} database has migration(s) ${unknown.join(', ')} that this code does not know: ` +
        'it was migrated by a newer release; refusing to start (deploy that release or a newer one)',
    );
    this.name = 'DatabaseNewerThanCodeError';
  }
}

/**
 * Brings a service's database to the schema its code expects, once, at start: the DataSource's
 * versioned migrations run in order, each in its own transaction, under a PostgreSQL advisory lock
 * held for the whole run, so replicas starting together take turns and the later ones find nothing
 * left to do. A database that holds a migration the code does not know is newer than the code, and
 * the service refuses to start rather than run against a schema it was not written for.
 * Returns the names of the migrations it applied. The DataSource's pool needs two connections: one
 * holds the lock, another runs the migrations.
 */
export async function migrateDatabase(dataSource: DataSource, database: string): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  const lock = `ecom-micro schema of ${database}`;
  try {
    await runner.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lock]);
    const table = dataSource.options.migrationsTableName ?? 'migrations';
    if (await runner.hasTable(table)) {
      const known = new Set(dataSource.migrations.map((m) => m.name ?? m.constructor.name));
      const applied = (await runner.query(`SELECT name FROM "${table}"`)) as { name: string }[];
      const unknown = applied.map((r) => r.name).filter((name) => !known.has(name));
      if (unknown.length > 0) throw new DatabaseNewerThanCodeError(database, unknown);
    }
    const ran = await dataSource.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lock]).catch(() => undefined);
    await runner.release();
  }
}
