import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';

/** What of pg's client and pool a statement needs: both take a named query. */
interface PgQueryable {
  query(query: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** Statement names by SQL text: one name per distinct statement, the same in every process. */
const statementNames = new Map<string, string>();

function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `s_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
    statementNames.set(sql, name);
  }
  return name;
}

/**
 * Runs one SQL statement and returns its rows, for SELECT and for
 * INSERT/UPDATE/DELETE ... RETURNING alike. Uses the manager's transaction
 * when it has one, else one of the pool's connections for this statement alone.
 *
 * As a named (prepared) statement, through pg itself: each connection parses and plans a statement
 * once and then only binds and runs it. typeorm's `query` sends every statement unnamed, so
 * PostgreSQL parsed and planned it anew each time; measured on the saga log's statements, that was
 * about two fifths of PostgreSQL's CPU for them. (typeorm has no way to name a statement; its
 * runner's pg connection and its pool are what it runs queries on.) Errors are pg's own, with their
 * SQLSTATE in `code` (see `sqlStateOf`).
 *
 * `sql` must be one of a fixed set of texts, values always passed in `params`: every distinct text
 * is prepared, and kept, on each connection that runs it.
 */
export async function sqlRows<T>(manager: EntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  const query = { name: statementName(sql), text: sql, values: params };
  const runner = manager.queryRunner as unknown as { connect(): Promise<PgQueryable> } | undefined;
  const on: PgQueryable = runner
    ? await runner.connect()
    : (manager.dataSource.driver as unknown as { master: PgQueryable }).master;
  return (await on.query(query)).rows as T[];
}
