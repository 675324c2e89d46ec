import { z } from 'zod';
import { cursorCodec, isoInstant } from './cursor';

const wire = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const invalidCursor = {
  kind: 'INVALID_DATA',
  fields: [{ field: 'cursor', message: 'not a cursor from a previous page' }],
};
function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('isoInstant', () => {
  it.each(['2026-01-02T03:04:05.678Z', '0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z'])(
    'reads %s back into the same instant',
    (text) => {
      expect(isoInstant.parse(text).toISOString()).toBe(text);
    },
  );

  it.each([
    '-271821-04-20T00:00:00.000Z',
    '+275760-09-13T00:00:00.000Z',
    '0000-01-01T00:00:00.000Z',
    '2020-02-30T00:00:00.000Z',
    '2020-01-01T00:00:00Z',
    '2020-01-01T00:00:00.000+01:00',
    '2020-01-01',
    'x',
  ])('refuses %s (PostgreSQL timestamptz range, or not what toISOString writes)', (text) => {
    expect(isoInstant.safeParse(text).success).toBe(false);
  });
});

describe('cursorCodec', () => {
  const keyset = cursorCodec(z.tuple([isoInstant, z.guid()]));
  const position: [Date, string] = [
    new Date('2026-01-02T03:04:05.678Z'),
    '0b7c3c36-8f41-4c55-9b7a-2b1c1b0c9a11',
  ];

  it('round-trips a position through an opaque base64url text', () => {
    const cursor = keyset.encode(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(keyset.decode(cursor)).toEqual(position);
  });

  it.each([
    ['empty', ''],
    ['not base64url', '!!'],
    ['not JSON', Buffer.from('[1,').toString('base64url')],
    ['the wrong shape', wire(['x', 'y'])],
    ['an id PostgreSQL cannot cast', wire(['2020-01-01T00:00:00.000Z', '-'.repeat(36)])],
    ['a year PostgreSQL cannot store', wire(['-271821-04-20T00:00:00.000Z', position[1]])],
    ['a non-canonical encoding', `${keyset.encode(position)}=`],
    ['bytes that are not UTF-8', Buffer.from([0x5b, 0xff, 0x5d]).toString('base64url')],
    ['an oversized text', 'A'.repeat(5_000)],
  ])('refuses %s as INVALID_DATA naming the cursor', (_what, cursor) => {
    expect(errorOf(() => keyset.decode(cursor))).toMatchObject(invalidCursor);
  });

  it('refuses strings a store would refuse (NUL), even where the schema takes any text', () => {
    const bySku = cursorCodec(z.string().min(1));
    expect(bySku.decode(bySku.encode('SKU-MUG'))).toBe('SKU-MUG');
    expect(errorOf(() => bySku.decode(wire('\u0000')))).toMatchObject(invalidCursor);
    expect(errorOf(() => bySku.decode(wire('x\ud800')))).toMatchObject(invalidCursor);
  });
});
