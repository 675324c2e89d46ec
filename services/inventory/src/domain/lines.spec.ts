import { decodeCursor, encodeCursor } from './cursor';
import { normaliseLines } from './lines';

describe('normaliseLines', () => {
  it('merges lines of one sku and sorts by sku (the lock order)', () => {
    expect(
      normaliseLines([
        { sku: 'B', quantity: 1 },
        { sku: 'A', quantity: 2 },
        { sku: 'B', quantity: 3 },
      ]),
    ).toEqual([
      { sku: 'A', quantity: 2 },
      { sku: 'B', quantity: 4 },
    ]);
  });
});

describe('product cursor', () => {
  it('round-trips a sku and rejects what it did not produce', () => {
    expect(decodeCursor(encodeCursor('SKU-MUG'))).toBe('SKU-MUG');
    expect(decodeCursor('!!')).toBeUndefined();
    expect(decodeCursor('')).toBeUndefined();
  });
});
