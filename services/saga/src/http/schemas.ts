import { z } from 'zod';
import { sagaStatuses } from '../domain/saga';

export const orderIdParams = z.object({ orderId: z.uuid() });

export const listQuery = z.object({
  status: z.enum(sagaStatuses).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().min(1).max(200).optional(),
});
