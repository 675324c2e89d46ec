import { flag, millis, postgresServiceConfigSchema } from '@ecom/shared';
import type { z } from 'zod';

export const inventoryConfigSchema = postgresServiceConfigSchema.extend({
  /** Seed a demo catalogue when the products table is empty. */
  SEED_DEMO_CATALOGUE: flag().default(true),
  /** How often the sweeper releases reservations past their expiry. */
  RESERVATION_SWEEP_MS: millis().default(1_000),
});
export type InventoryConfig = z.infer<typeof inventoryConfigSchema>;
