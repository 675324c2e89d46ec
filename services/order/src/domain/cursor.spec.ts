import { decodeCursor, encodeCursor } from './cursor';
import { requestHash } from './request-hash';

describe('order list cursor', () => {
  it('round-trips a position', () => {
    const position = {
      createdAt: new Date('2026-01-02T03:04:05.678Z'),
      orderId: '0b7c3c36-8f41-4c55-9b7a-2b1c1b0c9a11',
    };
    expect(decodeCursor(encodeCursor(position))).toEqual(position);
  });

  it.each([
    '',
    'garbage',
    Buffer.from('[1,2]').toString('base64url'),
    Buffer.from('["x","y"]').toString('base64url'),
  ])('rejects %p', (cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
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
