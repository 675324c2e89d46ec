import { millis, mongoServiceConfigSchema } from '@ecom/shared';
import { z } from 'zod';

const seconds = () => z.coerce.number().int().positive();

export const authServiceConfigSchema = mongoServiceConfigSchema.extend({
  REDIS_URL: z.string().min(1),
  /** Directory of the ES256 signing keys (a mounted Secret); a key is generated there when none exists. */
  AUTH_KEYS_DIR: z.string().min(1),
  /** Set to false when the keys directory is a read-only Secret rotated by the operator. */
  AUTH_KEYS_WRITABLE: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  AUTH_ISSUER: z.string().default('ecom-micro-auth'),
  AUTH_AUDIENCE: z.string().default('ecom-micro'),
  AUTH_CLOCK_TOLERANCE_S: z.coerce.number().int().min(0).max(300).default(5),
  ACCESS_TOKEN_TTL_S: seconds().max(3600).default(900),
  /** Absolute lifetime of a session (refresh token family); rotation never extends it. */
  SESSION_TTL_S: seconds().default(7 * 24 * 3600),
  AUTH_KEY_ROTATE_AFTER_S: seconds().default(30 * 24 * 3600),
  AUTH_KEY_RELOAD_MS: millis().default(60_000),
  /** Failed logins an account may have before each further one delays its logins (progressive delay). */
  LOGIN_ACCOUNT_FREE_FAILURES: z.coerce.number().int().positive().default(5),
  /** The first delay; it doubles with each further failure up to the maximum. */
  LOGIN_ACCOUNT_DELAY_BASE_S: seconds().default(1),
  LOGIN_ACCOUNT_DELAY_MAX_S: seconds().default(60),
  LOGIN_MAX_FAILURES_PER_CLIENT: z.coerce.number().int().positive().default(100),
  /** Failures after which a trusted device waits like a new one. */
  LOGIN_MAX_FAILURES_PER_DEVICE: z.coerce.number().int().positive().default(10),
  LOGIN_FAILURE_WINDOW_S: seconds().default(900),
  /** How long a device stays trusted after its last successful login. */
  LOGIN_DEVICE_TTL_S: seconds().default(30 * 24 * 3600),
  /** "Email already registered" answers one client may get per window before it waits. */
  REGISTER_MAX_DUPLICATES_PER_CLIENT: z.coerce.number().int().positive().default(10),
  REGISTER_DUPLICATE_WINDOW_S: seconds().default(3600),
  ADMIN_EMAIL: z.email().optional(),
  ADMIN_PASSWORD: z.string().min(8).optional(),
  OUTBOX_POLL_MS: millis().default(1_000),
  /** How often the outbox relay also sweeps the accounts by their flag (reads the whole table). */
  OUTBOX_SWEEP_MS: millis().default(600_000),
  SESSION_PURGE_MS: millis().default(3_600_000),
});
export type AuthServiceConfig = z.infer<typeof authServiceConfigSchema>;
