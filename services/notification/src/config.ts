import { authConfigSchema, millis, mongoServiceConfigSchema } from '@ecom/shared';
import { z } from 'zod';

export const notificationConfigSchema = mongoServiceConfigSchema
  .extend(authConfigSchema.shape)
  .extend({
    /** `smtp` sends mail; `log` writes each mail to the structured log (a stack with no mail server). */
    EMAIL_PROVIDER: z.enum(['smtp', 'log']).default('smtp'),
    SMTP_HOST: z.string().min(1).optional(),
    SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(25),
    SMTP_SECURE: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    SMTP_USER: z.string().optional(),
    SMTP_PASSWORD: z.string().optional(),
    NOTIFY_FROM: z.string().default('ecom-micro <no-reply@ecom.local>'),
    /** HTTP providers for SMS and push; a channel without one records its messages as failed. */
    SMS_WEBHOOK_URL: z.url().optional(),
    SMS_WEBHOOK_TOKEN: z.string().optional(),
    PUSH_WEBHOOK_URL: z.url().optional(),
    PUSH_WEBHOOK_TOKEN: z.string().optional(),
    PROVIDER_TIMEOUT_MS: millis().default(10_000),
    NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
    NOTIFY_BACKOFF_BASE_MS: millis().default(2_000),
    NOTIFY_BACKOFF_MAX_MS: millis().default(300_000),
    NOTIFY_LEASE_MS: millis().default(60_000),
    /**
     * How often the whole queue is scanned (see DispatcherOptions.scanIntervalMs): only for the work of
     * a replica that died for good, since a live one keeps a timer for everything it holds and a
     * replica scans when it starts. Each scan reads every notification ever kept.
     */
    NOTIFY_SCAN_MS: millis().default(300_000),
    /** Notifications attempted at once, and the SMTP connections pooled for them. */
    NOTIFY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
    /** How long an event about a not-yet-known user or order is retried before its notification is recorded failed. */
    NOTIFY_CONTEXT_WAIT_MS: millis().default(60_000),
  })
  .superRefine((config, ctx) => {
    if (config.EMAIL_PROVIDER === 'smtp' && config.SMTP_HOST === undefined) {
      ctx.addIssue({ code: 'custom', path: ['SMTP_HOST'], message: 'required when EMAIL_PROVIDER is smtp' });
    }
  });
export type NotificationConfig = z.infer<typeof notificationConfigSchema>;
