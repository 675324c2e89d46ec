import { millis, postgresServiceConfigSchema } from '@ecom/shared';
import type { z } from 'zod';

export const orderConfigSchema = postgresServiceConfigSchema.extend({
  /** The saga must finish an order within this long (order_created.deadline). */
  ORDER_SAGA_DEADLINE_MS: millis().default(60_000),
  /** How long to wait for inventory's prices. */
  PRICE_TIMEOUT_MS: millis().default(5_000),
});
export type OrderConfig = z.infer<typeof orderConfigSchema>;
