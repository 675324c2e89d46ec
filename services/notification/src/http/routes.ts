import { accessGuards, AppError, isAdmin, principalOf, serveApi, type JwtVerifier } from '@ecom/shared';
import type { Express } from 'express';
import type { Notification } from '../domain/notification';
import type { NotificationStore } from '../domain/ports';
import { notificationApi } from './api';
import { notificationCursor } from './schemas';

/** The history as clients see it (the rendered body included: it is the user's own mail). */
function view(n: Notification) {
  return {
    id: n.id,
    eventId: n.eventId,
    eventType: n.eventType,
    userId: n.userId,
    orderId: n.orderId,
    channel: n.channel,
    recipient: n.recipient,
    template: n.template,
    subject: n.subject,
    body: n.body,
    status: n.status,
    attempts: n.attempts,
    providerResponse: n.providerResponse,
    lastError: n.lastError,
    createdAt: n.createdAt,
    sentAt: n.sentAt,
  };
}

export function notificationRoutes(store: NotificationStore, verifier: JwtVerifier): (app: Express) => void {
  return (app) => {
    serveApi(app, notificationApi, accessGuards(verifier), {
      listNotifications: async ({ query }, _req, res) => {
        const principal = principalOf(res);
        if (query.userId && query.userId !== principal.userId && !isAdmin(principal)) {
          throw AppError.forbidden("only an admin may read another user's notifications");
        }
        // A customer always sees their own; an admin sees everyone's unless filtering by user.
        const userId = isAdmin(principal) ? query.userId : principal.userId;
        const items = await store.find({
          limit: query.limit + 1,
          ...(userId ? { userId } : {}),
          ...(query.status ? { status: query.status } : {}),
          ...(query.cursor ? { after: notificationCursor.decode(query.cursor) } : {}),
        });
        const page = items.slice(0, query.limit);
        const last = page.at(-1);
        res.json({
          items: page.map(view),
          ...(items.length > query.limit && last
            ? { nextCursor: notificationCursor.encode({ createdAt: last.createdAt, id: last.id }) }
            : {}),
        });
      },
    });
  };
}
