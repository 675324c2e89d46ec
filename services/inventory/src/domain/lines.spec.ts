import { AppError } from '@ecom/shared';
import { productCursor } from './cursor';
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
    expect(productCursor.decode(productCursor.encode('SKU-MUG'))).toBe('SKU-MUG');
    // `AA` is base64url of one NUL byte, which PostgreSQL refuses in text with a 500.
    for (const cursor of ['!!', '', 'AA']) {
      expect(() => productCursor.decode(cursor)).toThrow(AppError);
      expect(() => productCursor.decode(cursor)).toThrow('cursor is invalid');
    }
  });
});
