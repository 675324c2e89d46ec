import { randomUUID } from 'node:crypto';
import { loadStackSettings } from '../src/stack';
import { ensureTopics } from '../src/topics';
import { eventually } from './support/eventually';
import { startTestApp, type TestApp } from './support/test-app';

const topic = 'stack_probe_pubsub';

describe('pub/sub over Kafka between two apps, each with its own daprd', () => {
  const received: { id: string; data: unknown }[] = [];
  let publisher: TestApp;
  let subscriber: TestApp;

  beforeAll(async () => {
    await ensureTopics(loadStackSettings().ECOM_PORT_KAFKA, [topic]);
    subscriber = await startTestApp({
      appId: 'probe-subscriber',
      routes: (app) => {
        app.get('/dapr/subscribe', (_req, res) => res.json([{ pubsubname: 'pubsub', topic, route: '/in' }]));
        app.post('/in', (req, res) => {
          const event = req.body as { id: string; data: unknown };
          received.push({ id: event.id, data: event.data });
          res.json({ status: 'SUCCESS' });
        });
      },
    });
    publisher = await startTestApp({ appId: 'probe-publisher' });
  });

  afterAll(async () => {
    await Promise.all([publisher?.stop(), subscriber?.stop()]);
  });

  it('delivers a published message to the other app as a CloudEvent with its data intact', async () => {
    const marker = randomUUID();
    const payload = { marker, nested: { list: [1, 2, 3], text: 'ünïcødé' } };
    await publisher.sidecar.publish('pubsub', topic, payload);
    const seen = await eventually(
      async () => received.filter((e) => (e.data as { marker?: string }).marker === marker),
      (events) => events.length > 0,
      { what: 'delivery to the subscriber', timeoutMs: 60_000 },
    );
    expect(seen[0]?.data).toEqual(payload);
  });
});
