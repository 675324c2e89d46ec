import { defineApi } from '@ecom/shared';
import { listQuery, orderIdParams } from './schemas';

/** The saga service's public API: routed by routes.ts and documented at /openapi.json from these declarations. */
export const sagaApi = defineApi({
  service: 'saga',
  title: 'ecom-micro saga',
  description:
    "The order saga (Dapr Workflow, one instance per order) and a queryable log of each order's steps.",
  operations: {
    getSaga: {
      method: 'get',
      path: '/sagas/:orderId',
      summary: "The step timeline of one order's saga: its customer's, or any for an admin.",
      description: "Another customer's saga answers 404, exactly like a missing one.",
      access: 'user',
      input: { params: orderIdParams },
      success: {
        status: 200,
        description: '`{orderId, status, reason, steps: [{name, status, startedAt, endedAt, detail}]}`.',
      },
      errors: [404],
    },
    listSagas: {
      method: 'get',
      path: '/sagas',
      summary: 'Every saga, newest first, filtered by status, a page at a time (admin).',
      access: 'admin',
      input: { query: listQuery },
      success: { status: 200, description: '`{items, nextCursor}`.' },
    },
  },
});
