import { defineApi } from '@ecom/shared';
import { paymentsQuery } from './schemas';

/** The payment service's public API: routed by routes.ts and documented at /openapi.json from these declarations. */
export const paymentApi = defineApi({
  service: 'payment',
  title: 'ecom-micro payment',
  description:
    'Charges and refunds of orders through the payment provider; at most one successful charge per order.',
  operations: {
    listPayments: {
      method: 'get',
      path: '/payments',
      summary: "An order's charges and their refunds: its customer's, or any order's for an admin.",
      description:
        "An order payment knows nothing of and another customer's order answer the same 404 (no existence oracle).",
      access: 'user',
      input: { query: paymentsQuery },
      success: {
        status: 200,
        description:
          '`{items: [{paymentId, orderId, status, amount, currency, reason, createdAt, refund}]}`.',
      },
      errors: [404],
    },
  },
});
