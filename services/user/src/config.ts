import { authConfigSchema, mongoServiceConfigSchema } from '@ecom/shared';
import { z } from 'zod';

export const userServiceConfigSchema = mongoServiceConfigSchema.extend(authConfigSchema.shape).extend({
  REDIS_URL: z.string().min(1),
  USER_CACHE_TTL_S: z.coerce.number().int().positive().default(300),
  /** A Redis call slower than this counts as a cache failure; the read goes to MongoDB. */
  USER_CACHE_TIMEOUT_MS: z.coerce.number().int().positive().default(250),
});
export type UserServiceConfig = z.infer<typeof userServiceConfigSchema>;
