import { z } from 'zod';

export const chargeBody = z.object({
  orderId: z.uuid(),
  amount: z.number().int().min(0).max(2_000_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD'),
  paymentToken: z.string().min(1).max(200),
  /** Optional: the order's customer; payment also learns it from order_created. */
  customerId: z.string().min(1).max(200).optional(),
});

export const refundBody = z.object({
  orderId: z.uuid(),
  reason: z.string().min(1).max(200).default('compensation'),
});

export const paymentsQuery = z.object({ orderId: z.uuid() });
