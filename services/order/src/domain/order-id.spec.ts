import { z } from 'zod';
import { idempotentOrderId } from './order-id';

describe('the order id an Idempotency-Key names', () => {
  it('is the same for the same customer and key, and a valid UUID (version 8)', () => {
    const id = idempotentOrderId('customer-1', 'key-1');
    expect(idempotentOrderId('customer-1', 'key-1')).toBe(id);
    expect(z.uuid().safeParse(id).success).toBe(true);
    expect(id[14]).toBe('8');
  });

  it('differs for another key or another customer, even when their concatenation matches', () => {
    const id = idempotentOrderId('customer-1', 'key-1');
    expect(idempotentOrderId('customer-1', 'key-2')).not.toBe(id);
    expect(idempotentOrderId('customer-2', 'key-1')).not.toBe(id);
    expect(idempotentOrderId('ab', 'c')).not.toBe(idempotentOrderId('a', 'bc'));
  });
});
