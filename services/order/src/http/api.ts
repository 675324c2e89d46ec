import { defineApi } from '@ecom/shared';
import {
  getOrderQuery,
  idempotencyKeyHeader,
  listQuery,
  MAX_WAIT_SECONDS,
  orderIdParam,
  placeOrderBody,
} from './schemas';

/** The order service's public API: routed by routes.ts and documented at /openapi.json from these declarations. */
export const orderApi = defineApi({
  service: 'order',
  title: 'ecom-micro order',
  description:
    'Orders: accepted PENDING with prices from inventory, then moved to PAID or CANCELLED by the order saga.',
  operations: {
    placeOrder: {
      method: 'post',
      path: '/orders',
      summary: 'Place an order; the saga reserves stock, charges and confirms or compensates.',
      description:
        'Items are priced by inventory (an unknown sku is a 400 naming it). With an Idempotency-Key (scoped ' +
        'to the customer) a retry answers the first order with `Idempotent-Replayed: true`; the same key ' +
        'with a different request is a 409.',
      access: 'user',
      input: { headers: { 'Idempotency-Key': idempotencyKeyHeader }, body: placeOrderBody },
      success: {
        status: 202,
        description: '`{orderId, status: "PENDING"}`.',
        headers: {
          Location: 'The order: `/orders/{orderId}`.',
          'Idempotent-Replayed': '`true` when this answers an earlier request with the same key.',
        },
      },
      errors: [409, 503],
    },
    listOrders: {
      method: 'get',
      path: '/orders',
      summary: "The caller's orders, newest first, a page at a time.",
      access: 'user',
      input: { query: listQuery },
      success: { status: 200, description: '`{items, nextCursor}`.' },
    },
    getOrder: {
      method: 'get',
      path: '/orders/:id',
      summary: 'One order: its status, lines, total, and why it was cancelled.',
      description:
        "Another customer's order answers 404, exactly like a missing one. With `waitSeconds` (1 to " +
        `${MAX_WAIT_SECONDS}) the answer waits until the order is PAID or CANCELLED, or the time is up, ` +
        'and shows the order as it then is: a client waits for the outcome with one request at a time ' +
        'instead of polling. A final order answers at once.',
      access: 'user',
      input: { params: orderIdParam, query: getOrderQuery },
      success: {
        status: 200,
        description: 'The order (with `waitSeconds`, still PENDING when the wait ran out: ask again).',
      },
      errors: [404],
    },
    cancelOrder: {
      method: 'post',
      path: '/orders/:id/cancel',
      summary: 'Ask the saga to cancel a PENDING order (it compensates what it did).',
      description: 'A final order is a 409; 503 with Retry-After while the saga cannot take the request yet.',
      access: 'user',
      input: { params: orderIdParam },
      success: { status: 202, description: '`{orderId, status: "PENDING", cancellation: "requested"}`.' },
      errors: [404, 409, 503],
    },
  },
});
