import { baseConfigSchema, millis } from '@ecom/shared';
import { z } from 'zod';

export const edgeConfigSchema = baseConfigSchema.extend({
  /** The edge is the one app meant to be reached from outside: it listens on every interface. */
  APP_HOST: z.string().min(1).default('0.0.0.0'),
  /**
   * A forwarded call that takes longer is answered 503. Above order's longest long-poll
   * (GET /orders/:id?waitSeconds=30) with room for the read and the hops.
   */
  EDGE_TIMEOUT_MS: millis().default(40_000),
  BODY_LIMIT: z.string().default('1mb'),
});
export type EdgeConfig = z.infer<typeof edgeConfigSchema>;
