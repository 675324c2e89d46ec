import { z } from 'zod';

export const paymentsQuery = z.object({ orderId: z.uuid() });
