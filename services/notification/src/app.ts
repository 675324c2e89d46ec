import type { MongoServiceContext, ServiceParts } from '@ecom/shared';
import { LogEmailProvider } from './channels/log-email-provider';
import { SmtpEmailProvider } from './channels/smtp-email-provider';
import { WebhookProvider } from './channels/webhook-provider';
import type { NotificationConfig } from './config';
import { Dispatcher } from './domain/dispatcher';
import type { Channel } from './domain/notification';
import { NotificationService } from './domain/notification-service';
import type { ChannelProvider } from './domain/ports';
import { subscribeNotifications } from './events/subscriptions';
import { notificationRoutes } from './http/routes';
import { MongoDirectory } from './store/mongo-directory';
import { MongoNotificationStore } from './store/mongo-notification-store';

/** The notification service's parts, from the bootstrap's context (main's, or a test's own database). */
export async function composeNotification({
  config,
  logger,
  connection,
  subscriber,
  verifier,
}: MongoServiceContext<NotificationConfig>): Promise<ServiceParts> {
  const store = new MongoNotificationStore(connection);
  const directory = new MongoDirectory(connection);
  await store.init();
  const clock = { now: () => new Date() };

  const smtp =
    config.EMAIL_PROVIDER === 'smtp' && config.SMTP_HOST !== undefined
      ? new SmtpEmailProvider({
          host: config.SMTP_HOST,
          port: config.SMTP_PORT,
          secure: config.SMTP_SECURE,
          from: config.NOTIFY_FROM,
          timeoutMs: config.PROVIDER_TIMEOUT_MS,
          maxConnections: config.NOTIFY_CONCURRENCY,
          ...(config.SMTP_USER ? { user: config.SMTP_USER, password: config.SMTP_PASSWORD ?? '' } : {}),
        })
      : undefined;
  const providers: Partial<Record<Channel, ChannelProvider>> = {
    email: smtp ?? new LogEmailProvider(logger, config.NOTIFY_FROM),
  };
  if (config.SMS_WEBHOOK_URL) {
    providers.sms = new WebhookProvider({
      channel: 'sms',
      url: config.SMS_WEBHOOK_URL,
      timeoutMs: config.PROVIDER_TIMEOUT_MS,
      ...(config.SMS_WEBHOOK_TOKEN ? { token: config.SMS_WEBHOOK_TOKEN } : {}),
    });
  }
  if (config.PUSH_WEBHOOK_URL) {
    providers.push = new WebhookProvider({
      channel: 'push',
      url: config.PUSH_WEBHOOK_URL,
      timeoutMs: config.PROVIDER_TIMEOUT_MS,
      ...(config.PUSH_WEBHOOK_TOKEN ? { token: config.PUSH_WEBHOOK_TOKEN } : {}),
    });
  }

  const dispatcher: Dispatcher = new Dispatcher({
    store,
    providers,
    // Called during passes only, which start after the service below exists.
    resolve: (n) => notifications.resolve(n),
    clock,
    logger,
    maxAttempts: config.NOTIFY_MAX_ATTEMPTS,
    baseBackoffMs: config.NOTIFY_BACKOFF_BASE_MS,
    maxBackoffMs: config.NOTIFY_BACKOFF_MAX_MS,
    leaseMs: config.NOTIFY_LEASE_MS,
    scanIntervalMs: config.NOTIFY_SCAN_MS,
    concurrency: config.NOTIFY_CONCURRENCY,
  });
  const notifications = new NotificationService({
    directory,
    store,
    clock,
    pushEnabled: providers.push !== undefined,
    waitForContextMs: config.NOTIFY_CONTEXT_WAIT_MS,
    queue: dispatcher,
  });
  subscribeNotifications(subscriber, notifications);

  return {
    routes: notificationRoutes(store, verifier),
    // Mail can wait in the queue while the SMTP server is away: not critical.
    readiness: smtp ? [{ name: 'smtp', critical: false, check: () => smtp.verify() }] : [],
    onStart: () => {
      dispatcher.start();
      return Promise.resolve();
    },
    onShutdown: async () => {
      await dispatcher.stop();
      smtp?.close();
    },
  };
}
