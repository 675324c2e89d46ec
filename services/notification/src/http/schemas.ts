import { cursorCodec, isoInstant } from '@ecom/shared';
import { z } from 'zod';
import { statuses } from '../domain/notification';

export const listNotificationsQuery = z.object({
  userId: z.string().min(1).max(100).optional(),
  status: z.enum(statuses).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(300).optional(),
});

/** Opaque keyset cursor over (createdAt, id), newest first. */
export const notificationCursor = cursorCodec(
  z.object({ createdAt: isoInstant, id: z.string().min(1).max(300) }),
);
