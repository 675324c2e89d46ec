import { createHash } from 'node:crypto';
import type { PlaceOrderRequest } from './model';

/**
 * A fingerprint of what a POST /orders asked for. Lines are compared in the
 * order given: the same key with other content is a different request.
 */
export function requestHash(request: PlaceOrderRequest): string {
  const canonical = JSON.stringify({
    items: request.items.map((l) => [l.sku, l.quantity]),
    paymentToken: request.paymentToken,
  });
  return createHash('sha256').update(canonical).digest('hex');
}
