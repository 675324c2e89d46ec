import { QueryFailedError } from 'typeorm';
import { AppError } from '../errors/app-error';
import { STATEMENT_OVERRAN } from './postgres';
import { isStoreUnavailable, translateStoreError } from './unavailable';

function queryFailed(code: string): QueryFailedError {
  return new QueryFailedError('select 1', [], Object.assign(new Error(`sqlstate ${code}`), { code }));
}

describe('isStoreUnavailable', () => {
  it.each([
    ['a pool that could not connect in time', new Error('timeout exceeded when trying to connect')],
    ['a connection the server dropped', new Error('Connection terminated unexpectedly')],
    ['a server shutting down (57P01)', queryFailed('57P01')],
    ['a connection failure (08006)', queryFailed('08006')],
    ['too many connections (53300)', queryFailed('53300')],
    [
      'a statement PostgreSQL did not answer in time',
      new QueryFailedError(
        'select 1',
        [],
        new Error(`${STATEMENT_OVERRAN} 500 ms; its connection was closed`),
      ),
    ],
    [
      'an operation Mongoose queued while disconnected',
      new Error('Operation `users.findOne()` buffering timed out after 10000ms'),
    ],
    [
      'a MongoDB server not found in time',
      Object.assign(new Error('x'), { name: 'MongoServerSelectionError' }),
    ],
  ])('is true for %s', (_what, error) => {
    expect(isStoreUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', queryFailed('23505')],
    ['a syntax error', queryFailed('42601')],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'sku')")],
    ['an AppError', new AppError('CONFLICT', 'Connection terminated')],
    ['a string', 'timeout exceeded when trying to connect'],
  ])('is false for %s', (_what, error) => {
    expect(isStoreUnavailable(error)).toBe(false);
  });

  it('turns only the passing failures into a 503 to retry, keeping the cause', () => {
    const cause = queryFailed('57P03');
    const translated = translateStoreError(cause);
    expect(translated).toBeInstanceOf(AppError);
    expect((translated as AppError).kind).toBe('UNAVAILABLE');
    expect((translated as AppError).retryAfterSeconds).toBe(1);
    expect((translated as AppError).cause).toBe(cause);
    const bug = new Error('boom');
    expect(translateStoreError(bug)).toBe(bug);
  });
});
