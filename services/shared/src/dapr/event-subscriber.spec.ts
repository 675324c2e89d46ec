import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { buildEvent } from '../events/envelope';
import type { EventPayload } from '../events/catalogue';
import { createLogger } from '../logging/logger';
import { traceHeaders } from '../logging/request-context';
import { EventSubscriber } from './event-subscriber';

describe('EventSubscriber', () => {
  let server: Server;
  let base: string;
  const handled: EventPayload<'order_paid'>[] = [];
  const tracesSeen: Record<string, string>[] = [];
  let failNext = false;

  beforeAll(async () => {
    const app = express();
    app.use(express.json({ type: ['application/json', 'application/*+json'] }));
    new EventSubscriber(createLogger('probe', 'silent'))
      .on('order_paid', async (event) => {
        if (failNext) {
          failNext = false;
          throw new Error('database away');
        }
        handled.push(event);
        tracesSeen.push(traceHeaders());
      })
      .mount(app);
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => {
        resolve(s);
      });
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const deliver = async (data: unknown, fields: Record<string, string> = {}) => {
    const response = await fetch(`${base}/events/order_paid`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        id: randomUUID(),
        specversion: '1.0',
        type: 'com.dapr.event.sent',
        data,
        ...fields,
      }),
    });
    return ((await response.json()) as { status: string }).status;
  };
  const paid = () =>
    buildEvent('order_paid', { orderId: randomUUID(), customerId: 'u1', total: 1200, currency: 'EUR' });

  it('declares its subscriptions to Dapr with dead-letter topics', async () => {
    expect(await (await fetch(`${base}/dapr/subscribe`)).json()).toEqual([
      {
        pubsubname: 'pubsub',
        topic: 'order_paid',
        route: '/events/order_paid',
        deadLetterTopic: 'order_paid_dlq',
        metadata: {},
      },
    ]);
  });

  it('hands a valid event to its handler', async () => {
    const event = paid();
    expect(await deliver(event)).toBe('SUCCESS');
    expect(handled).toContainEqual(event);
  });

  it('drops an event that breaks its schema instead of retrying it forever', async () => {
    const before = handled.length;
    expect(await deliver({ ...paid(), total: 'twelve' })).toBe('DROP');
    expect(handled).toHaveLength(before);
  });

  it("continues the event's trace, from `traceid` when Dapr's outbox left `traceparent` empty", async () => {
    const trace = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    expect(await deliver(paid(), { traceparent: trace })).toBe('SUCCESS');
    expect(tracesSeen.at(-1)?.traceparent).toBe(trace);
    const fromOutbox = `00-${'c'.repeat(32)}-${'d'.repeat(16)}-01`;
    expect(await deliver(paid(), { traceparent: '', traceid: fromOutbox })).toBe('SUCCESS');
    expect(tracesSeen.at(-1)?.traceparent).toBe(fromOutbox);
  });

  it('asks Dapr to retry when the handler fails', async () => {
    failNext = true;
    expect(await deliver(paid())).toBe('RETRY');
  });
});
