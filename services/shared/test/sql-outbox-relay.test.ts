import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import {
  connectPostgres,
  migrateDatabase,
  createLogger,
  currentContext,
  DaprSidecar,
  deadLetters,
  enqueueEvent,
  EventPublisher,
  OutboxRelay,
  runWithContext,
  type EventName,
  type EventPayload,
  type EventSink,
  type OutboxRelayOptions,
} from '@ecom/shared';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { sidecarTokens } from '../../../stack/src/services';
import { servicePorts } from '../../../stack/src/settings';
import { startEventObserver } from '../../../stack/test/support/event-observer';
import { scratchDatabase, type ScratchDatabase } from '../../../stack/test/support/scratch-database';
import { eventually } from '../../../stack/test/support/eventually';
import { freePort } from '../../../stack/test/support/ports';

/**
 * The SQL outbox relay against the stack's real PostgreSQL (issue 13, item 1): failures are
 * counted and kept, a poisoned row is dead-lettered without holding back the others, and
 * nothing the sink accepted is published again, whatever fails after it. Each suite works in
 * a scratch database of its own, created and dropped here.
 */

const logger = createLogger('sql-outbox-relay-test', 'silent');
/** The event the tests enqueue: only an order id, and no service of the stack consumes it. */
const TOPIC = 'inventory_committed' satisfies EventName;

/** Commits one event for `orderId` as a service does; returns its event id. */
async function enqueue(ds: DataSource, orderId: string = randomUUID()): Promise<string> {
  const event = await ds.transaction((m) => enqueueEvent(m, TOPIC, { orderId }));
  return event.eventId;
}

interface StoredRow {
  eventId: string;
  attempts: number;
  published: boolean;
  deadLettered: boolean;
  claimed: boolean;
  lastError: string | null;
  traceparent: string | null;
}

async function outboxRows(ds: DataSource): Promise<Map<string, StoredRow>> {
  const rows: StoredRow[] = await ds.query(
    `SELECT event_id AS "eventId", attempts, published_at IS NOT NULL AS published,
       dead_lettered_at IS NOT NULL AS "deadLettered", claimed_by IS NOT NULL AS claimed,
       last_error AS "lastError", traceparent
     FROM outbox`,
  );
  return new Map(rows.map((r) => [r.eventId, r]));
}

async function unpublished(ds: DataSource): Promise<number> {
  const [row] = await ds.query<{ n: number }[]>(
    'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL AND dead_lettered_at IS NULL',
  );
  return row?.n ?? -1;
}

/** Passes until every open row is out (rows that failed wait out their short back-off). */
async function drainAll(relay: OutboxRelay, ds: DataSource, what: string): Promise<void> {
  await eventually(
    async () => {
      await relay.drainOnce();
      return unpublished(ds);
    },
    (n) => n === 0,
    { what, intervalMs: 20, timeoutMs: 20_000 },
  );
}

const fastRetries: OutboxRelayOptions = { retryBaseMs: 20, retryMaxMs: 50, maxBackoffMs: 50 };

/** Publishes in-process, recording each call; `fails` picks the events it refuses. */
class RecordingSink implements EventSink {
  readonly calls: { eventId: string; ok: boolean }[] = [];
  constructor(private readonly fails: (eventId: string) => boolean = () => false) {}

  async publish<K extends EventName>(_name: K, payload: EventPayload<K>): Promise<void> {
    const ok = !this.fails(payload.eventId);
    this.calls.push({ eventId: payload.eventId, ok });
    if (!ok) throw new Error(`sidecar refused ${payload.eventId}`);
  }

  accepted(): string[] {
    return this.calls.filter((c) => c.ok).map((c) => c.eventId);
  }
}

type Answer = 'accept' | 'refuse' | 'vanish';

/**
 * Stands in for a Dapr sidecar's publish API, so the relay runs through the real EventPublisher
 * and DaprSidecar. `answer` decides each request by its number: accept it (204), refuse it (500,
 * as daprd does when the broker fails), or vanish (drop the connection and stop listening, as a
 * sidecar that dies mid-batch).
 */
class FakeSidecar {
  readonly accepted: { eventId: string; topic: string; partitionKey: string | null }[] = [];
  answer: (request: number) => Answer = () => 'accept';
  private requests = 0;
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(readonly port: number) {}

  static async start(): Promise<FakeSidecar> {
    const sidecar = new FakeSidecar(await freePort());
    await sidecar.listen();
    return sidecar;
  }

  async listen(): Promise<void> {
    const server = http.createServer((req, res) => {
      this.handle(req, res);
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.requests += 1;
      const answer = this.answer(this.requests);
      if (answer === 'vanish') {
        void this.close();
        return;
      }
      if (answer === 'refuse') {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"errorCode":"ERR_PUBSUB_PUBLISH_MESSAGE","message":"broker unavailable"}');
        return;
      }
      const url = new URL(req.url ?? '/', 'http://sidecar');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { eventId: string };
      this.accepted.push({
        eventId: body.eventId,
        topic: url.pathname.split('/').at(-1) ?? '',
        partitionKey: url.searchParams.get('metadata.partitionKey'),
      });
      res.writeHead(204).end();
    });
  }

  acceptedIds(): string[] {
    return this.accepted.map((a) => a.eventId);
  }
}

function countOf(ids: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

describe('SQL outbox relay on PostgreSQL: counted failures, dead letters, no republish', () => {
  let db: ScratchDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await scratchDatabase('outbox_relay_test');
    ds = await connectPostgres({ url: db.url, entities: [], poolSize: 10 });
    await migrateDatabase(ds, 'outbox-test');
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  beforeEach(async () => {
    await ds.query('DELETE FROM outbox');
  });

  /** A relay publishing through the real Dapr adapters to a (fake) sidecar on `port`. */
  const relayThrough = (port: number) =>
    new OutboxRelay(ds, new EventPublisher(new DaprSidecar('127.0.0.1', port)), logger, fastRetries);

  it('lets the other rows past a poisoned one, and dead-letters it after maxAttempts counted tries', async () => {
    const poisonedOrder = randomUUID();
    const poison = await enqueue(ds, poisonedOrder);
    const others = [];
    for (let i = 0; i < 5; i += 1) others.push(await enqueue(ds));
    const laterOfPoisonedOrder = await enqueue(ds, poisonedOrder);
    const sink = new RecordingSink((id) => id === poison);
    const relay = new OutboxRelay(ds, sink, logger, { ...fastRetries, pollIntervalMs: 20, maxAttempts: 3 });

    relay.start();
    try {
      await eventually(
        () => outboxRows(ds),
        (rows) =>
          rows.get(poison)?.deadLettered === true && rows.get(laterOfPoisonedOrder)?.published === true,
        { what: 'poisoned row dead-lettered and the rest published', timeoutMs: 20_000 },
      );
    } finally {
      await relay.stop();
    }

    const rows = await outboxRows(ds);
    expect(rows.get(poison)).toMatchObject({
      attempts: 3,
      published: false,
      claimed: false,
      lastError: `sidecar refused ${poison}`,
    });
    const poisonTries = sink.calls.flatMap((c, i) => (c.eventId === poison ? [i] : []));
    expect(poisonTries).toHaveLength(3);
    // Not held back: every other order's event went out before the poisoned row's last try.
    const positions = others.map((id) => sink.calls.findIndex((c) => c.eventId === id && c.ok));
    expect(Math.max(...positions)).toBeLessThan(poisonTries[2]!);
    // Its own order's later event waited for it, and went once it was given up.
    expect(sink.calls.findIndex((c) => c.eventId === laterOfPoisonedOrder)).toBeGreaterThan(poisonTries[2]!);
    expect([...countOf(sink.accepted()).values()].every((n) => n === 1)).toBe(true);
    expect(new Set(sink.accepted())).toEqual(new Set([...others, laterOfPoisonedOrder]));
    expect(await deadLetters(ds)).toEqual([
      expect.objectContaining({ eventId: poison, topic: TOPIC, aggregateId: poisonedOrder, attempts: 3 }),
    ]);
  });

  it('never publishes again the rows a batch published before a sidecar failure', async () => {
    const ids = [];
    for (let i = 0; i < 8; i += 1) ids.push(await enqueue(ds));
    const sidecar = await FakeSidecar.start();
    sidecar.answer = (n) => (n <= 3 ? 'accept' : 'refuse');
    const relay = relayThrough(sidecar.port);
    try {
      // One batch: three accepted, then two refusals end the pass.
      await expect(relay.drainOnce()).resolves.toEqual({
        claimed: 8,
        published: 3,
        failed: 2,
        deadLettered: 0,
      });
      const rows = await outboxRows(ds);
      expect(ids.map((id) => rows.get(id)?.published)).toEqual([
        true,
        true,
        true,
        false,
        false,
        false,
        false,
        false,
      ]);
      expect(ids.map((id) => rows.get(id)?.attempts)).toEqual([0, 0, 0, 1, 1, 0, 0, 0]);
      expect(rows.get(ids[3]!)?.lastError).toMatch(/failed \(500\)/);
      expect([...rows.values()].some((r) => r.claimed)).toBe(false);

      sidecar.answer = () => 'accept';
      await drainAll(relay, ds, 'the rest published once the sidecar accepts again');
    } finally {
      await sidecar.close();
    }

    expect(sidecar.acceptedIds().sort()).toEqual([...ids].sort());
    const rows = await outboxRows(ds);
    expect([...rows.values()].every((r) => r.published)).toBe(true);
    for (const accepted of sidecar.accepted) {
      expect(accepted.topic).toBe(TOPIC);
      expect(accepted.partitionKey).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('sends nothing twice when the sidecar vanishes mid-batch and comes back on the same port', async () => {
    const ids = [];
    for (let i = 0; i < 6; i += 1) ids.push(await enqueue(ds));
    const sidecar = await FakeSidecar.start();
    sidecar.answer = (n) => (n <= 2 ? 'accept' : 'vanish');
    const relay = relayThrough(sidecar.port);
    try {
      // The third publish loses its connection; the fourth finds the port closed.
      await expect(relay.drainOnce()).resolves.toEqual({
        claimed: 6,
        published: 2,
        failed: 2,
        deadLettered: 0,
      });
      let rows = await outboxRows(ds);
      expect(ids.map((id) => rows.get(id)?.published)).toEqual([true, true, false, false, false, false]);
      expect(ids.map((id) => rows.get(id)?.attempts)).toEqual([0, 0, 1, 1, 0, 0]);
      expect(rows.get(ids[3]!)?.lastError).toMatch(/unreachable/);

      // Still unreachable: the next pass only counts two more failures.
      await expect(relay.drainOnce()).resolves.toMatchObject({ published: 0, failed: 2 });
      rows = await outboxRows(ds);
      expect(ids.filter((id) => rows.get(id)?.published)).toEqual(ids.slice(0, 2));

      sidecar.answer = () => 'accept';
      await sidecar.listen();
      await drainAll(relay, ds, 'every row published once the sidecar is back');
    } finally {
      await sidecar.close();
    }

    expect(sidecar.acceptedIds().slice(0, 2)).toEqual(ids.slice(0, 2));
    expect(sidecar.acceptedIds().sort()).toEqual([...ids].sort());
  });

  it("shares the work between two relays, each order's events in order and each event once", async () => {
    const orders = Array.from({ length: 30 }, () => randomUUID());
    const expected = new Map<string, string[]>(orders.map((o) => [o, []]));
    for (let round = 0; round < 3; round += 1) {
      for (const orderId of orders) expected.get(orderId)?.push(await enqueue(ds, orderId));
    }
    const published: { eventId: string; orderId: string }[] = [];
    const sink: EventSink = {
      publish: async (_name, payload) => {
        published.push({ eventId: payload.eventId, orderId: (payload as { orderId: string }).orderId });
      },
    };
    const relays = [1, 2].map(
      () => new OutboxRelay(ds, sink, logger, { pollIntervalMs: 10, batchSize: 7, ...fastRetries }),
    );
    relays.forEach((r) => {
      r.start();
    });
    try {
      await eventually(
        () => unpublished(ds),
        (n) => n === 0,
        { what: 'every row published', timeoutMs: 20_000 },
      );
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
    }

    expect(published).toHaveLength(90);
    for (const orderId of orders) {
      expect(published.filter((p) => p.orderId === orderId).map((p) => p.eventId)).toEqual(
        expected.get(orderId),
      );
    }
  });

  it('publishes each event in the trace it was enqueued in, through a real sidecar', async () => {
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const orderId = randomUUID();
    const seen: { orderId: string; traceparent: string | undefined }[] = [];
    const observer = await startEventObserver('outbox-trace-probe', [TOPIC], (_topic, event) => {
      seen.push({ orderId: event.orderId, traceparent: currentContext()?.traceparent });
    });
    try {
      const eventId = await runWithContext({ traceparent }, () => enqueue(ds, orderId));
      expect((await outboxRows(ds)).get(eventId)?.traceparent).toBe(traceparent);

      // inventory publishes inventory_committed: only its sidecar may (publishing scopes).
      const inventorySidecar = new DaprSidecar(
        '127.0.0.1',
        servicePorts('inventory').daprHttp,
        sidecarTokens('inventory').DAPR_API_TOKEN,
      );
      const relay = new OutboxRelay(ds, new EventPublisher(inventorySidecar), logger);
      await expect(relay.drainOnce()).resolves.toMatchObject({ published: 1 });

      const [delivered] = await eventually(
        async () => seen.filter((s) => s.orderId === orderId),
        (events) => events.length > 0,
        { what: 'event delivered to the observer', timeoutMs: 60_000 },
      );
      expect(delivered?.traceparent?.split('-')[1]).toBe(traceId);
    } finally {
      await observer.stop();
    }
  });
});

describe('SQL outbox schema: tables created by the previous code are migrated in place', () => {
  let db: ScratchDatabase;
  let ds: DataSource | undefined;

  beforeAll(async () => {
    db = await scratchDatabase('outbox_relay_test');
  });

  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('adds the new columns, keeps published rows published and publishes only the others', async () => {
    const legacy = new Client({ connectionString: db.url });
    await legacy.connect();
    const [published, pendingA, pendingB] = [randomUUID(), randomUUID(), randomUUID()];
    try {
      // The tables exactly as typeorm created them from the previous entity schemas.
      await legacy.query(`
        CREATE TABLE outbox (
          event_id uuid NOT NULL, topic text NOT NULL, aggregate_id text NOT NULL, payload jsonb NOT NULL,
          created_at timestamp with time zone DEFAULT now() NOT NULL,
          published_at timestamp with time zone, attempts integer DEFAULT 0 NOT NULL,
          CONSTRAINT "PK_cc0c9e40998e45ecfc5e313429d" PRIMARY KEY (event_id));
        CREATE INDEX outbox_unpublished ON outbox USING btree (created_at) WHERE (published_at IS NULL);
        CREATE TABLE inbox (
          consumer text NOT NULL, event_id uuid NOT NULL,
          processed_at timestamp with time zone DEFAULT now() NOT NULL,
          CONSTRAINT "PK_625a303addbbe1f30d3f65ed7fe" PRIMARY KEY (consumer, event_id));`);
      for (const [eventId, publishedAt] of [
        [published, new Date()],
        [pendingA, null],
        [pendingB, null],
      ] as const) {
        const orderId = randomUUID();
        await legacy.query(
          `INSERT INTO outbox (event_id, topic, aggregate_id, payload, published_at) VALUES ($1, $2, $3, $4, $5)`,
          [
            eventId,
            TOPIC,
            orderId,
            { eventId, orderId, occurredAt: new Date().toISOString(), schemaVersion: 1 },
            publishedAt,
          ],
        );
      }
    } finally {
      await legacy.end();
    }

    ds = await connectPostgres({ url: db.url, entities: [], poolSize: 2 });
    await migrateDatabase(ds, 'outbox-test');

    const columns: { column_name: string }[] = await ds.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'outbox'`,
    );
    expect(columns.map((c) => c.column_name)).toEqual(
      expect.arrayContaining([
        'claimed_by',
        'claimed_until',
        'retry_at',
        'last_error',
        'dead_lettered_at',
        'traceparent',
        'tracestate',
      ]),
    );
    const indexes: { indexname: string }[] = await ds.query(
      `SELECT indexname FROM pg_indexes WHERE tablename = 'outbox'`,
    );
    expect(indexes.map((i) => i.indexname).sort()).toEqual([
      'PK_cc0c9e40998e45ecfc5e313429d',
      'outbox_dead_letters',
      'outbox_open',
    ]);
    const sink = new RecordingSink();
    const relay = new OutboxRelay(ds, sink, logger);
    await expect(relay.drainOnce()).resolves.toMatchObject({ claimed: 2, published: 2 });
    expect(sink.accepted().sort()).toEqual([pendingA, pendingB].sort());
    expect([...(await outboxRows(ds)).values()].every((r) => r.published)).toBe(true);
  });
});
