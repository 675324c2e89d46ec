import { orderCursor } from './cursor';
import { requestHash } from './request-hash';

const wire = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('order list cursor', () => {
  it('round-trips a position', () => {
    const position = {
      createdAt: new Date('2026-01-02T03:04:05.678Z'),
      orderId: '0b7c3c36-8f41-4c55-9b7a-2b1c1b0c9a11',
      offset: 40,
    };
    expect(orderCursor.decode(orderCursor.encode(position))).toEqual(position);
  });

  it.each([
    '',
    'garbage',
    wire([1, 2]),
    wire(['x', 'y']),
    // Shapes PostgreSQL refuses with a 500: an order id that is not a uuid, a year outside timestamptz.
    wire(['2020-01-01T00:00:00.000Z', '-'.repeat(36), 0]),
    wire(['-271821-04-20T00:00:00.000Z', '0b7c3c36-8f41-4c55-9b7a-2b1c1b0c9a11', 0]),
    wire(['0000-01-01T00:00:00.000Z', '0b7c3c36-8f41-4c55-9b7a-2b1c1b0c9a11', 0]),
    // A position without its offset (an older cursor), or one no store could have handed out.
    wire(['2020-01-01T00:00:00.000Z', '0b7c3c36-8f41-4c55-9b7a-2b1c1b0c9a11']),
    wire(['2020-01-01T00:00:00.000Z', '0b7c3c36-8f41-4c55-9b7a-2b1c1b0c9a11', -1]),
    wire(['2020-01-01T00:00:00.000Z', '0b7c3c36-8f41-4c55-9b7a-2b1c1b0c9a11', 1.5]),
    wire(['2020-01-01T00:00:00.000Z', '0b7c3c36-8f41-4c55-9b7a-2b1c1b0c9a11', 2 ** 53]),
  ])('rejects %p as a 400 naming the cursor', (cursor) => {
    expect(errorOf(() => orderCursor.decode(cursor))).toMatchObject({
      kind: 'INVALID_DATA',
      fields: [{ field: 'cursor' }],
    });
  });
});

describe('request fingerprint', () => {
  const base = { items: [{ sku: 'A', quantity: 1 }], paymentToken: 'tok_visa' };
  it('is stable for the same request and differs for any change', () => {
    expect(requestHash(base)).toBe(requestHash({ ...base, items: [{ sku: 'A', quantity: 1 }] }));
    expect(requestHash(base)).not.toBe(requestHash({ ...base, items: [{ sku: 'A', quantity: 2 }] }));
    expect(requestHash(base)).not.toBe(requestHash({ ...base, paymentToken: 'tok_other' }));
  });
});
