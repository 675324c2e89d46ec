import { Client, type ClientConfig, type QueryResult } from 'pg';
import { DataSource, type EntitySchema, QueryFailedError } from 'typeorm';
import { OutboxTables1764633600000 } from '../outbox/migrations';
import { outboxEntities } from '../outbox/sql-outbox';
import type { MigrationClass } from './migrations';

export interface PostgresDataSourceOptions {
  url: string;
  /** The service's own entities; the outbox and inbox tables are added unless `sqlOutbox` is false. */
  entities: EntitySchema[];
  /** False for a service whose events all leave through Dapr's outbox: no outbox or inbox table. */
  sqlOutbox?: boolean;
  /**
   * The service's versioned schema changes (run by `migrateDatabase`, never by `synchronize`); the
   * SQL outbox's own migration comes first unless `sqlOutbox` is false.
   */
  migrations?: MigrationClass[];
  poolSize?: number;
  /** How long one statement may wait for PostgreSQL's answer before its connection is given up. */
  queryTimeoutMs?: number;
}

/** What a statement fails with when PostgreSQL did not answer it in time (see boundedClient). */
export const STATEMENT_OVERRAN = 'PostgreSQL did not answer the statement within';

/**
 * pg's Client whose statements each wait at most `timeoutMs` for an answer; one that overruns fails
 * and takes its connection down with it. pg's own `query_timeout` (8.x) fails the caller but, outside
 * pipeline mode, leaves the statement in flight on the connection, and typeorm then hands that
 * connection back to the pool as healthy: the next caller would queue behind a server that stopped
 * answering, and a transaction whose COMMIT or ROLLBACK overran could stay open under the next
 * caller's statements. Destroying the socket fails whatever was queued on it, and the pool opens a fresh
 * connection for the next caller.
 */
export function boundedClient(timeoutMs: number): typeof Client {
  return class BoundedClient extends Client {
    constructor(config?: string | ClientConfig) {
      super(config);
      // Only the promise form is bounded: typeorm submits every statement that way.
      const submit = this.query.bind(this) as (...args: unknown[]) => unknown;
      this.query = ((...args: unknown[]) => {
        const answer = submit(...args);
        return answer instanceof Promise ? this.bound(answer as Promise<QueryResult>) : answer;
      }) as Client['query'];
    }

    /**
     * Destroying the socket with the error makes pg mark the client unqueryable before it fails the
     * statement (and any queued behind it) with that error, so whoever releases it, the pool drops it.
     */
    private bound(answer: Promise<QueryResult>): Promise<QueryResult> {
      const timer = setTimeout(() => {
        this.connection.stream.destroy(
          new Error(`${STATEMENT_OVERRAN} ${timeoutMs} ms; its connection was closed`),
        );
      }, timeoutMs);
      return answer.finally(() => {
        clearTimeout(timer);
      });
    }
  };
}

/** A connected DataSource for a service's own PostgreSQL database (one database per service). */
export async function connectPostgres(options: PostgresDataSourceOptions): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: options.url,
    entities: options.sqlOutbox === false ? options.entities : [...options.entities, ...outboxEntities],
    migrations: [
      ...(options.sqlOutbox === false ? [] : [OutboxTables1764633600000]),
      ...(options.migrations ?? []),
    ],
    synchronize: false,
    logging: false,
    extra: {
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      Client: boundedClient(options.queryTimeoutMs ?? 30_000),
    },
  });
  return dataSource.initialize();
}

/** True when PostgreSQL rejected a write because of a UNIQUE constraint (SQLSTATE 23505). */
export function isUniqueViolation(error: unknown): boolean {
  return sqlStateOf(error) === '23505';
}

/** True when PostgreSQL rejected a write because of a CHECK constraint (SQLSTATE 23514). */
export function isCheckViolation(error: unknown): boolean {
  return sqlStateOf(error) === '23514';
}

/** True when PostgreSQL refused a value out of its column's range, an int overflow say (SQLSTATE 22003). */
export function isOutOfRange(error: unknown): boolean {
  return sqlStateOf(error) === '22003';
}

/**
 * The SQLSTATE PostgreSQL answered: of a statement typeorm wrapped (QueryFailedError), or of pg's own
 * error where nothing wrapped it (a pool's connect refused with 53300, say).
 */
export function sqlStateOf(error: unknown): string | undefined {
  const driverError: unknown = error instanceof QueryFailedError ? error.driverError : error;
  if (typeof driverError !== 'object' || driverError === null) return undefined;
  const code = (driverError as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
