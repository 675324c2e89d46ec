import { z } from 'zod';
import { statuses } from '../domain/notification';

export const listNotificationsQuery = z.object({
  userId: z.string().min(1).max(100).optional(),
  status: z.enum(statuses).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(300).optional(),
});

export const cursorSchema = z.object({ createdAt: z.iso.datetime({ offset: true }), id: z.string().min(1) });
