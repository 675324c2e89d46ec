import { postgresServiceConfigSchema } from '@ecom/shared';
import { z } from 'zod';

export const paymentConfigSchema = postgresServiceConfigSchema.extend({
  /** Which provider charges cards; only the built-in test-token provider ships with the reference. */
  PAYMENT_PROVIDER: z.enum(['test-token']).default('test-token'),
});
export type PaymentConfig = z.infer<typeof paymentConfigSchema>;
