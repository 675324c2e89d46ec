import { z } from 'zod';
import { AppError } from '../errors/app-error';
import { parseInput } from './validate';

function failureOf(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected parseInput to throw');
}

describe('parseInput', () => {
  const profile = z.strictObject({
    name: z.string().trim().min(1).max(100),
    addresses: z.array(z.strictObject({ line1: z.string().min(1) })).optional(),
  });

  it('returns what the schema parsed', () => {
    expect(parseInput(profile, { name: ' Zoë 👍🏽 ' }, 'body')).toEqual({ name: 'Zoë 👍🏽' });
  });

  it('names the fields the schema refuses', () => {
    const error = failureOf(() => parseInput(profile, { name: '' }, 'body'));
    expect(error.kind).toBe('INVALID_DATA');
    expect(error.fields.map((f) => f.field)).toEqual(['name']);
  });

  it('refuses NUL in any string it lets through, naming the field (stores refuse NUL with a 500)', () => {
    const error = failureOf(() =>
      parseInput(profile, { name: 'a\u0000b', addresses: [{ line1: 'x\u0000' }] }, 'body'),
    );
    expect(error).toMatchObject({ kind: 'INVALID_DATA', message: 'body is invalid' });
    expect(error.fields).toEqual([
      { field: 'name', message: 'must not contain NUL characters' },
      { field: 'addresses.0.line1', message: 'must not contain NUL characters' },
    ]);
  });

  it('refuses NUL in path and query values and a lone surrogate anywhere', () => {
    const path = z.object({ id: z.string().min(1).max(100) });
    expect(failureOf(() => parseInput(path, { id: '\u0000' }, 'path')).fields).toEqual([
      { field: 'id', message: 'must not contain NUL characters' },
    ]);
    const query = z.object({ userId: z.string().optional() });
    expect(failureOf(() => parseInput(query, { userId: '\u0000' }, 'query')).fields[0]?.field).toBe('userId');
    expect(failureOf(() => parseInput(profile, { name: 'x\udc00' }, 'body')).fields).toEqual([
      { field: 'name', message: 'must be well-formed Unicode (no lone surrogates)' },
    ]);
  });

  it('names a bare value by what it is', () => {
    const header = z.string().max(200).optional();
    expect(failureOf(() => parseInput(header, 'k\u0000', 'Idempotency-Key')).fields[0]?.field).toBe(
      'Idempotency-Key',
    );
  });
});
