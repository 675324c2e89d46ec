import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { LOCAL_DAPR_NAMESPACE, loadStackSettings, localComponentValues } from '../src/stack';
import { outboxInternalTopic } from '@ecom/shared';
import { pgStateComponent } from '../src/components';
import { ensureTopics } from '../src/topics';
import { consistently, eventually } from './support/eventually';
import { startTestApp, type TestApp } from './support/test-app';

const appId = 'outbox-probe';
// A topic per run: the internal outbox topic then starts empty, whatever earlier runs left.
const topic = `stack_probe_outbox_${Date.now()}`;

/** A state.postgresql store with Dapr's transactional outbox, scoped to the probe app. */
const outboxStore = pgStateComponent(localComponentValues(loadStackSettings()), {
  name: 'outboxstore',
  appId,
  table: 'outbox_probe',
  metadata: {
    outboxPublishPubsub: 'pubsub',
    outboxPublishTopic: topic,
    // A rolled-back transaction leaves its message on the internal topic with no state behind it.
    // Without discarding, the message would be delivered again and again, blocking its partition.
    outboxDiscardWhenMissingState: 'true',
  },
});

describe("Dapr's transactional outbox on state.postgresql", () => {
  const received: { id: string; data: unknown; datacontenttype?: string }[] = [];
  let app: TestApp;
  let db: Client;

  beforeAll(async () => {
    const s = loadStackSettings();
    // The store's database (the local stack's dapr_state), to read its rows and lock them.
    db = new Client({
      connectionString: `postgres://${s.ECOM_PG_USER}@127.0.0.1:${s.ECOM_PORT_POSTGRES}/dapr_state`,
    });
    await db.connect();
    // pubsub.kafka never creates topics: the final topic and the outbox's internal one must exist.
    // One partition each, so that a barrier message is always behind the messages it must follow.
    await ensureTopics(
      s.ECOM_PORT_KAFKA,
      [topic, outboxInternalTopic(appId, topic, LOCAL_DAPR_NAMESPACE)],
      1,
    );
    app = await startTestApp({
      appId,
      extraResources: [outboxStore],
      routes: (express) => {
        express.get('/dapr/subscribe', (_req, res) =>
          res.json([{ pubsubname: 'pubsub', topic, route: '/in' }]),
        );
        express.post('/in', (req, res) => {
          received.push(req.body as { id: string; data: unknown });
          res.json({ status: 'SUCCESS' });
        });
      },
    });
  });

  afterAll(async () => {
    await app?.stop();
    await db?.end();
  });

  const upsert = (key: string, value: unknown, etag?: string) => ({
    operation: 'upsert' as const,
    request: { key, value, ...(etag ? { etag } : {}), metadata: { contentType: 'application/json' } },
  });
  const eventsFor = (marker: string) =>
    received.filter((e) => (e.data as { marker?: string } | undefined)?.marker === marker);
  /** A committed key to conflict with (its value's marker is 'seed'). */
  const seed = async () => {
    const key = `existing-${randomUUID()}`;
    await app.sidecar.stateTransaction('outboxstore', [upsert(key, { marker: 'seed' })]);
    return key;
  };
  /**
   * Commits a transaction and waits for its event. On the one partition it comes after every message
   * published before it, so once it arrived, any event (or duplicate) of those would have too.
   */
  const barrierEvent = async () => {
    const barrier = randomUUID();
    await app.sidecar.stateTransaction('outboxstore', [upsert(`barrier-${barrier}`, { marker: barrier })]);
    await eventually(
      async () => eventsFor(barrier),
      (events) => events.length === 1,
      { what: 'the barrier event', timeoutMs: 60_000 },
    );
  };

  it('publishes exactly one CloudEvent per committed transaction, with the JSON payload intact', async () => {
    const marker = randomUUID();
    const value = { marker, order: { total: 4200, currency: 'EUR', lines: [{ sku: 'SKU-1', quantity: 2 }] } };
    await app.sidecar.stateTransaction('outboxstore', [upsert(`committed-${marker}`, value)]);

    const [event] = await eventually(
      async () => eventsFor(marker),
      (events) => events.length === 1,
      {
        what: 'the outbox event',
        timeoutMs: 60_000,
      },
    );
    expect(event?.data).toEqual(value);
    // The state itself was committed with the event.
    expect(await app.sidecar.getState('outboxstore', `committed-${marker}`)).toEqual(value);

    // Once a later transaction's event arrived, a duplicate of the first would have arrived too.
    await barrierEvent();
    expect(eventsFor(marker)).toHaveLength(1);
  });

  it('publishes nothing for a transaction that fails', async () => {
    const existing = await seed();

    const marker = randomUUID();
    // The second operation's etag is stale, so the whole transaction rolls back.
    await expect(
      app.sidecar.stateTransaction('outboxstore', [
        upsert(`failed-${marker}`, { marker }),
        upsert(existing, { marker }, '1'),
      ]),
    ).rejects.toThrow(/state transaction/);
    expect(await app.sidecar.getState('outboxstore', `failed-${marker}`)).toBeUndefined();

    // daprd publishes to its internal topic before the database commits, then only forwards a
    // message whose state exists. Watch well past the handler's lookups: nothing may come out.
    await consistently(
      async () => eventsFor(marker),
      (events) => events.length === 0,
      {
        durationMs: 20_000,
        what: 'no event for the rolled-back transaction',
      },
    );
  });

  // daprd's outbox handler, as built here (stack/dapr-build/outbox-settle.go), settles a missing
  // marker with a tombstone instead of looking for it for 10 s while its partition waits.
  const now = async () => (await db.query<{ now: Date }>('SELECT now() AS now')).rows[0]!.now;
  const tombstonesSince = async (since: Date) =>
    Number(
      (
        await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM outbox_probe_state WHERE value = '"rolled-back"'::jsonb AND insertdate >= $1`,
          [since],
        )
      ).rows[0]!.n,
    );

  it("settles each rolled-back transaction's message with a tombstone, and forwards the events behind it", async () => {
    const existing = await seed();
    const since = await now();
    const marker = randomUUID();
    const rolledBack = 3;
    for (let i = 0; i < rolledBack; i += 1) {
      // One upsert, so one message: daprd publishes a message for every upsert of a transaction.
      await expect(
        app.sidecar.stateTransaction('outboxstore', [upsert(existing, { marker, i }, '1')]),
      ).rejects.toThrow(/state transaction/);
    }
    // One partition: the barrier's event comes after every rolled-back message was settled.
    await barrierEvent();
    expect(await tombstonesSince(since)).toBe(rolledBack);
    expect(eventsFor(marker)).toHaveLength(0);
  });

  it('a transaction that had not written its marker when its message was settled can no longer commit', async () => {
    const existing = await seed();
    const since = await now();
    const marker = randomUUID();
    // Hold the row the transaction updates first: it waits there, before its marker's insert.
    await db.query('BEGIN');
    await db.query('SELECT 1 FROM outbox_probe_state WHERE key = $1 FOR UPDATE', [`${appId}||${existing}`]);
    const late = app.sidecar.stateTransaction('outboxstore', [upsert(existing, { marker })]).then(
      () => 'committed',
      (error: unknown) => String(error),
    );
    try {
      await eventually(
        () => tombstonesSince(since),
        (n) => n === 1,
        { what: "a tombstone under the waiting transaction's marker", timeoutMs: 30_000 },
      );
    } finally {
      await db.query('COMMIT');
    }
    expect(await late).toMatch(/state transaction/);
    expect(await app.sidecar.getState('outboxstore', existing)).toEqual({ marker: 'seed' });
    await barrierEvent();
    expect(eventsFor(marker)).toHaveLength(0);
  });
});
