import { Client, type ClientConfig } from 'pg';
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
 * connection back to the pool as healthy: every later caller handed it would queue behind a server
 * that stopped answering, and learn it only from its own timeout. Destroying the socket fails whatever
 * was queued on it, and the pool opens a fresh connection for the next caller.
 */
export function boundedClient(timeoutMs: number): typeof Client {
  return class BoundedClient extends Client {
    constructor(config?: string | ClientConfig) {
      super(config);
      // Both forms are bounded: typeorm's runners submit a statement and await its promise; the
      // pool's own query (sqlRows outside a transaction) passes a callback. A Submittable (a cursor,
      // a stream) is not: nothing here submits one.
      const submit = this.query.bind(this) as (...args: unknown[]) => unknown;
      this.query = ((...args: unknown[]) => {
        const callback = args.at(-1);
        if (typeof callback === 'function') {
          const timer = this.overrunTimer();
          args[args.length - 1] = (...outcome: unknown[]) => {
            clearTimeout(timer);
            (callback as (...outcome: unknown[]) => void)(...outcome);
          };
          return submit(...args);
        }
        const answer = submit(...args);
        if (!(answer instanceof Promise)) return answer;
        const timer = this.overrunTimer();
        return answer.finally(() => {
          clearTimeout(timer);
        });
      }) as Client['query'];
    }

    /**
     * Destroying the socket with the error makes pg mark the client unqueryable before it fails the
     * statement (and any queued behind it) with that error, so whoever releases it, the pool drops it.
     */
    private overrunTimer(): NodeJS.Timeout {
      return setTimeout(() => {
        this.connection.stream.destroy(
          new Error(`${STATEMENT_OVERRAN} ${timeoutMs} ms; its connection was closed`),
        );
      }, timeoutMs);
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
