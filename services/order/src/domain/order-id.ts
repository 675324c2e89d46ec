import { createHash } from 'node:crypto';

/**
 * The order id a (customer, Idempotency-Key) pair always names: the first 16 bytes of a SHA-256,
 * shaped as a UUID version 8 (RFC 9562). A retried POST finds its order by id, and the store's
 * first-write guard on that id lets concurrent retries create exactly one order.
 */
export function idempotentOrderId(customerId: string, idempotencyKey: string): string {
  const bytes = createHash('sha256')
    .update(JSON.stringify(['order', customerId, idempotencyKey]))
    .digest()
    .subarray(0, 16);
  bytes.writeUInt8((bytes.readUInt8(6) & 0x0f) | 0x80, 6);
  bytes.writeUInt8((bytes.readUInt8(8) & 0x3f) | 0x80, 8);
  const hex = bytes.toString('hex');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
}
