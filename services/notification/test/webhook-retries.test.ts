import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import {
  assembleMongoService,
  buildEvent,
  createLogger,
  loadConfig,
  type EventName,
  type EventPayload,
  type ServiceApp,
} from '@ecom/shared';
import express from 'express';
import mongoose from 'mongoose';
import { serviceEnv, sidecarTokens } from '../../../stack/src/services';
import { loadStackSettings } from '../../../stack/src/stack';
import { eventually } from '../../../stack/test/support/eventually';
import { freePort } from '../../../stack/test/support/ports';
import { composeNotification } from '../src/app';
import { notificationConfigSchema } from '../src/config';
import { MongoNotificationStore } from '../src/store/mongo-notification-store';

/**
 * The notification service on its own database, with SMS and push webhook
 * providers served by this test: the SMS provider fails twice, then accepts.
 * Events are delivered to its subscription routes the way Dapr delivers them.
 */
describe('notification: webhook providers, retries with backoff', () => {
  const database = `notification_webhooks_${randomUUID().slice(0, 8)}`;
  const received: { channel: string; body: Record<string, unknown>; key: string | undefined }[] = [];
  let smsFailuresLeft = 2;
  let providers: Server;
  let service: ServiceApp;
  let connection: mongoose.Connection;
  let baseUrl: string;

  beforeAll(async () => {
    const s = loadStackSettings();
    const providerPort = await freePort();
    const web = express();
    web.use(express.json());
    web.post('/sms', (req, res) => {
      if (smsFailuresLeft > 0) {
        smsFailuresLeft -= 1;
        res.status(503).send('provider busy');
        return;
      }
      received.push({
        channel: 'sms',
        body: req.body as Record<string, unknown>,
        key: req.header('idempotency-key'),
      });
      res.status(202).json({ accepted: true });
    });
    web.post('/push', (req, res) => {
      received.push({
        channel: 'push',
        body: req.body as Record<string, unknown>,
        key: req.header('idempotency-key'),
      });
      res.status(200).json({ delivered: 1 });
    });
    providers = await new Promise<Server>((resolve) => {
      const server = web.listen(providerPort, '127.0.0.1', () => {
        resolve(server);
      });
    });

    const port = await freePort();
    const config = loadConfig(notificationConfigSchema, {
      ...serviceEnv(s, 'notification'),
      APP_PORT: String(port),
      SMS_WEBHOOK_URL: `http://127.0.0.1:${providerPort}/sms`,
      PUSH_WEBHOOK_URL: `http://127.0.0.1:${providerPort}/push`,
      NOTIFY_BACKOFF_BASE_MS: '200',
    });
    connection = await mongoose
      .createConnection(`mongodb://127.0.0.1:${s.ECOM_PORT_MONGO}/${database}`)
      .asPromise();
    service = await assembleMongoService({
      name: 'notification',
      config,
      logger: createLogger('notification-test', 'silent'),
      connection,
      compose: composeNotification,
    });
    // Starts the dispatcher too, as the service does.
    await service.start();
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await connection.dropDatabase();
    await service.stop('test done');
    await new Promise((resolve) => providers.close(resolve));
  });

  /** What Dapr does on a delivery: POST the CloudEvent to the subscription route, with the app's token. */
  async function deliver<K extends EventName>(name: K, payload: EventPayload<K>): Promise<string> {
    const response = await fetch(`${baseUrl}/events/${name}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents+json',
        'dapr-api-token': sidecarTokens('notification').APP_API_TOKEN,
      },
      body: JSON.stringify({
        id: randomUUID(),
        specversion: '1.0',
        type: 'com.dapr.event.sent',
        data: payload,
      }),
    });
    return ((await response.json()) as { status: string }).status;
  }

  it('retries the SMS provider with backoff until it accepts, then records its answer; one send despite two deliveries', async () => {
    const userId = randomUUID();
    expect(
      await deliver(
        'user_registered',
        buildEvent('user_registered', {
          userId,
          email: `${userId}@example.com`,
          name: 'Sam',
          roles: ['customer'],
        }),
      ),
    ).toBe('SUCCESS');
    const sms = buildEvent('notification_send', {
      userId,
      channel: 'sms',
      template: 'custom',
      data: { subject: 'Code', text: 'Your code is 123456', phone: '+14155550123' },
    });
    expect(await deliver('notification_send', sms)).toBe('SUCCESS');
    expect(await deliver('notification_send', sms)).toBe('SUCCESS');

    const store = new MongoNotificationStore(connection);
    const done = await eventually(
      () => store.findById(`${sms.eventId}:sms`),
      (n) => n?.status === 'sent',
      { what: 'sms sent after retries' },
    );
    expect(done).toMatchObject({
      attempts: 3,
      recipient: '+14155550123',
      providerResponse: '202 {"accepted":true}',
    });
    expect(received.filter((r) => r.channel === 'sms')).toEqual([
      {
        channel: 'sms',
        key: `${sms.eventId}:sms`,
        body: expect.objectContaining({ to: '+14155550123', text: 'Your code is 123456' }),
      },
    ]);
  });

  it('sends order_paid by email and push; an event that overtakes its order waits in the queue, not in Kafka', async () => {
    const userId = randomUUID();
    await deliver(
      'user_registered',
      buildEvent('user_registered', {
        userId,
        email: `${userId}@example.com`,
        name: 'Pia',
        roles: ['customer'],
      }),
    );
    const orderId = randomUUID();
    const early = buildEvent('payment_failed', { orderId, code: 'declined', reason: 'card declined' });
    // Accepted at once (a refusal would hold up the partition); stored awaiting its recipient.
    expect(await deliver('payment_failed', early)).toBe('SUCCESS');
    const waiting = await new MongoNotificationStore(connection).findById(`${early.eventId}:email`);
    expect(waiting).toMatchObject({ status: 'queued', awaitingContext: true, recipient: '' });
    const paid = buildEvent('order_paid', { orderId, customerId: userId, total: 1000, currency: 'USD' });
    expect(await deliver('order_paid', paid)).toBe('SUCCESS');
    const store = new MongoNotificationStore(connection);
    await eventually(
      () => store.findById(`${paid.eventId}:push`),
      (n) => n?.status === 'sent',
    );
    await eventually(
      () => store.findById(`${paid.eventId}:email`),
      (n) => n?.status === 'sent',
    );
    expect(received.find((r) => r.channel === 'push')?.body).toMatchObject({
      to: userId,
      subject: `Your order ${orderId} is confirmed`,
    });
    // order_paid names its customer, and a paid order never has a payment_failed: it teaches nothing.
    // Asked again after order_paid was handled (a deferral moves updatedAt), the early one still waits.
    const paidHandledAt = new Date();
    const stillWaiting = await eventually(
      () => store.findById(`${early.eventId}:email`),
      (n) => n !== undefined && n.updatedAt > paidHandledAt,
      { what: 'early notification deferred again after order_paid' },
    );
    expect(stillWaiting).toMatchObject({ status: 'queued', awaitingContext: true });
    // The order's cancellation (what follows a failed payment) introduces it: the early payment
    // notification is addressed, rendered and sent.
    const cancelled = buildEvent('order_cancelled', {
      orderId,
      customerId: userId,
      reason: 'payment_failed',
    });
    expect(await deliver('order_cancelled', cancelled)).toBe('SUCCESS');
    const resolved = await eventually(
      () => store.findById(`${early.eventId}:email`),
      (n) => n?.status === 'sent',
      { what: 'deferred notification sent' },
    );
    expect(resolved).toMatchObject({
      userId,
      recipient: `${userId}@example.com`,
      subject: `Payment failed for order ${orderId}`,
      attempts: 1,
      awaitingContext: false,
    });
    expect(resolved?.body).toContain('card declined');
    expect(await deliver('order_paid', { ...paid, eventId: 'not-a-uuid' })).toBe('DROP');
  });
});
