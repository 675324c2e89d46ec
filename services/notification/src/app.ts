import { createServiceApp, JwtVerifier, type Logger, type ServiceApp, mongoReadiness } from '@ecom/shared';
import type { Connection } from 'mongoose';
import { LogEmailProvider } from './channels/log-email-provider';
import { SmtpEmailProvider } from './channels/smtp-email-provider';
import { WebhookProvider } from './channels/webhook-provider';
import type { NotificationConfig } from './config';
import { Dispatcher } from './domain/dispatcher';
import type { Channel } from './domain/notification';
import { NotificationService } from './domain/notification-service';
import type { ChannelProvider } from './domain/ports';
import { notificationSubscriptions } from './events/subscriptions';
import { notificationRoutes } from './http/routes';
import { MongoDirectory } from './store/mongo-directory';
import { MongoNotificationStore } from './store/mongo-notification-store';

export interface NotificationApp {
  service: ServiceApp;
  dispatcher: Dispatcher;
}

/** Wires the notification service from its MongoDB connection and configuration. */
export async function createNotificationApp(
  config: NotificationConfig,
  logger: Logger,
  connection: Connection,
): Promise<NotificationApp> {
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

  const notifications = new NotificationService({
    directory,
    store,
    clock,
    pushEnabled: providers.push !== undefined,
    waitForContextMs: config.NOTIFY_CONTEXT_WAIT_MS,
    // Called on events only, after the dispatcher below exists.
    wake: (ids) => {
      dispatcher.wake(ids);
    },
  });
  const dispatcher = new Dispatcher({
    store,
    providers,
    resolve: (n) => notifications.resolve(n),
    clock,
    logger,
    maxAttempts: config.NOTIFY_MAX_ATTEMPTS,
    baseBackoffMs: config.NOTIFY_BACKOFF_BASE_MS,
    maxBackoffMs: config.NOTIFY_BACKOFF_MAX_MS,
    leaseMs: config.NOTIFY_LEASE_MS,
    pollIntervalMs: config.NOTIFY_POLL_MS,
  });
  const subscriptions = notificationSubscriptions(notifications, logger);

  const service = createServiceApp({
    name: 'notification',
    port: config.APP_PORT,
    logger,
    bodyLimit: config.BODY_LIMIT,
    shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    host: config.APP_HOST,
    appApiToken: config.APP_API_TOKEN,
    readiness: [
      mongoReadiness(connection),
      // Mail can wait in the queue while the SMTP server is away: not critical.
      ...(smtp ? [{ name: 'smtp', critical: false, check: () => smtp.verify() }] : []),
    ],
    routes: (app) => {
      subscriptions.mount(app);
      notificationRoutes(store, JwtVerifier.fromConfig(config))(app);
    },
    onShutdown: async () => {
      await dispatcher.stop();
      smtp?.close();
      await connection.close();
    },
  });
  return { service, dispatcher };
}
