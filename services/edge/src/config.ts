import { baseConfigSchema, millis } from '@ecom/shared';
import { z } from 'zod';

export const edgeConfigSchema = baseConfigSchema.extend({
  /** The edge is the one app meant to be reached from outside: it listens on every interface. */
  APP_HOST: z.string().min(1).default('0.0.0.0'),
  /** A forwarded call that takes longer is answered 504. */
  EDGE_TIMEOUT_MS: millis().default(30_000),
  BODY_LIMIT: z.string().default('1mb'),
});
export type EdgeConfig = z.infer<typeof edgeConfigSchema>;
