import { defineApi } from '@ecom/shared';
import { listNotificationsQuery } from './schemas';

/** The notification service's public API: routed by routes.ts and documented at /openapi.json from these declarations. */
export const notificationApi = defineApi({
  service: 'notification',
  title: 'ecom-micro notification',
  description:
    'The emails, SMS and push messages sent to customers about their account and orders, and their history.',
  operations: {
    listNotifications: {
      method: 'get',
      path: '/notifications',
      summary:
        "The caller's notifications, newest first; an admin sees everyone's, or one user's with `userId`.",
      description: "A customer asking for another user's notifications gets 403.",
      access: 'user',
      input: { query: listNotificationsQuery },
      success: { status: 200, description: '`{items, nextCursor?}`.' },
      errors: [403],
    },
  },
});
