import { AppError } from '../errors/app-error';
import { sqlStateOf, STATEMENT_OVERRAN } from './postgres';

/**
 * SQLSTATEs that say the database could not serve the statement now, not that the statement is
 * wrong: class 08 (connection exception), 53300 too_many_connections, 57P01-57P03 (the server
 * shutting down or not yet accepting connections).
 */
const UNAVAILABLE_SQLSTATE = /^(08...|53300|57P0[123])$/;

/**
 * Messages of a connection the drivers lost or never got (pg, pg-pool, the MongoDB driver, Mongoose's
 * queue), or of a statement PostgreSQL did not answer in time (boundedClient).
 */
const UNAVAILABLE_MESSAGE = new RegExp(
  'timeout exceeded when trying to connect|Connection terminated|connection timeout|ECONNREFUSED|' +
    `ECONNRESET|EPIPE|ETIMEDOUT|server selection timed out|buffering timed out|${STATEMENT_OVERRAN}`,
  'i',
);

/** MongoDB driver error classes for a server it cannot reach or lost on the way. */
const UNAVAILABLE_MONGO = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoPoolClearedError',
  'MongooseServerSelectionError',
]);

/**
 * True when a service's own database failed it for a passing reason: a pool that could not connect
 * in time, a connection dropped, a server restarting. Such a request may succeed when tried again.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || error instanceof AppError) return false;
  const sqlState = sqlStateOf(error);
  if (sqlState !== undefined && UNAVAILABLE_SQLSTATE.test(sqlState)) return true;
  if (UNAVAILABLE_MONGO.has((error as { name?: unknown }).name as string)) return true;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
}

/**
 * A request its database failed for a passing reason is the client's 503 with a Retry-After, not an
 * opaque 500 (during a rolling upgrade on a busy node, a pool's connect can take past its 5 s);
 * anything else passes unchanged.
 */
export function translateStoreError(error: unknown): unknown {
  return isStoreUnavailable(error)
    ? new AppError('UNAVAILABLE', 'the service could not reach its database; try again', {
        cause: error,
        retryAfterSeconds: 1,
      })
    : error;
}
