import pino from 'pino';
import type { EventName, EventPayload } from '../events/catalogue';
import {
  embedOutbox,
  markOutbox,
  MongoOutboxRelay,
  OUTBOX_FIELD,
  OUTBOX_PENDING_FIELD,
  pendingEvent,
  type OutboxCollection,
  type PendingEvent,
} from './mongo-outbox';

type Doc = { _id: string; [OUTBOX_FIELD]: PendingEvent[]; [OUTBOX_PENDING_FIELD]: boolean };
type Mark = { _id: string; nonce: string };

/** Documents with an embedded outbox: lookups by id or by the flag, conditional pop and conditional flag reset. */
class FakeDocuments implements OutboxCollection {
  readonly docs: Doc[];
  /** The filters of the flag lookups, to tell a sweep from a pass that only followed marks. */
  readonly sweeps: number[] = [];
  constructor(docs: { _id: string; events: PendingEvent[] }[]) {
    this.docs = docs.map((d) => ({ _id: d._id, ...embedOutbox(d.events) }));
  }
  find(filter: Record<string, unknown>) {
    let matching: Doc[];
    if ('_id' in filter) matching = this.docs.filter((d) => d._id === filter._id);
    else {
      expect(filter).toEqual({ [OUTBOX_PENDING_FIELD]: true });
      this.sweeps.push(Date.now());
      matching = this.docs.filter((d) => d[OUTBOX_PENDING_FIELD]);
    }
    const copies = matching.map((d) => structuredClone(d));
    return { limit: (n: number) => ({ toArray: async () => copies.slice(0, n) }) };
  }
  async updateOne(filter: Record<string, unknown>, update: Record<string, unknown>): Promise<unknown> {
    const doc = this.docs.find((d) => d._id === filter._id);
    if (!doc) return {};
    if ('$pop' in update && doc[OUTBOX_FIELD][0]?.eventId === filter[`${OUTBOX_FIELD}.0.eventId`]) {
      doc[OUTBOX_FIELD].shift();
    }
    if ('$set' in update && doc[OUTBOX_FIELD].length === 0) doc[OUTBOX_PENDING_FIELD] = false;
    return {};
  }
  async deleteOne(): Promise<unknown> {
    throw new Error('the relay never deletes a document');
  }
}

/** The marks: read all, upserted by id, deleted only with the nonce read. */
class FakeMarks implements OutboxCollection {
  readonly marks = new Map<string, Mark>();
  find(filter: Record<string, unknown>) {
    expect(filter).toEqual({});
    const all = [...this.marks.values()].map((m) => ({ ...m }));
    return { limit: (n: number) => ({ toArray: async () => all.slice(0, n) }) };
  }
  async updateOne(filter: Record<string, unknown>, update: Record<string, unknown>): Promise<unknown> {
    const set = update.$set as Omit<Mark, '_id'>;
    this.marks.set(filter._id as string, { _id: filter._id as string, ...set });
    return {};
  }
  async deleteOne(filter: Record<string, unknown>): Promise<unknown> {
    if (this.marks.get(filter._id as string)?.nonce === filter.nonce) this.marks.delete(filter._id as string);
    return {};
  }
}

const silent = pino({ level: 'silent' });
const event = (userId: string) =>
  pendingEvent('user_registered', { userId, email: `${userId}@example.com`, name: userId, roles: [] });

/** A relay over one source whose published events are listed as `topic:userId`. */
function relayOver(
  documents: FakeDocuments,
  marks: FakeMarks,
  options: { orphanGraceMs?: number; sweepIntervalMs?: number; batchSize?: number } = {},
) {
  const published: string[] = [];
  const relay = new MongoOutboxRelay({
    sources: [{ documents, marks }],
    logger: silent,
    ...options,
    sink: {
      publish: async <K extends EventName>(name: K, payload: EventPayload<K>) => {
        published.push(`${name}:${(payload as { userId: string }).userId}`);
      },
    },
  });
  return { relay, published };
}

describe('MongoOutboxRelay', () => {
  it('publishes embedded events in order and removes each only after it was published', async () => {
    const documents = new FakeDocuments([
      { _id: 'a', events: [event('a'), event('a2')] },
      { _id: 'b', events: [] },
    ]);
    const { relay, published } = relayOver(documents, new FakeMarks());
    await expect(relay.drainOnce()).resolves.toBe(2);
    expect(published).toEqual(['user_registered:a', 'user_registered:a2']);
    expect(documents.docs[0]!.outbox).toEqual([]);
    expect(documents.docs[0]!.outboxPending).toBe(false);
    await expect(relay.drainOnce()).resolves.toBe(0);
  });

  it('follows the marks on every pass and sweeps the documents by their flag only on the first', async () => {
    const documents = new FakeDocuments([{ _id: 'old', events: [event('old')] }]);
    const marks = new FakeMarks();
    const { relay, published } = relayOver(documents, marks);
    await expect(relay.drainOnce()).resolves.toBe(1);
    expect(documents.sweeps).toHaveLength(1);

    // Written since: one marked first (as every write now is), one without a mark.
    await markOutbox(marks, 'new');
    documents.docs.push({ _id: 'new', ...embedOutbox([event('new')]) });
    documents.docs.push({ _id: 'unmarked', ...embedOutbox([event('unmarked')]) });
    await expect(relay.drainOnce()).resolves.toBe(1);
    expect(published).toEqual(['user_registered:old', 'user_registered:new']);
    expect(marks.marks.size).toBe(0);
    expect(documents.sweeps).toHaveLength(1);
  });

  describe('over time', () => {
    beforeEach(() => {
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    });
    afterEach(() => {
      jest.useRealTimers();
    });

    it('keeps a mark whose document is not written yet for the grace period, then drops it', async () => {
      const documents = new FakeDocuments([]);
      const marks = new FakeMarks();
      const { relay, published } = relayOver(documents, marks, { orphanGraceMs: 60_000 });
      await markOutbox(marks, 'late');
      await markOutbox(marks, 'never');
      await expect(relay.drainOnce()).resolves.toBe(0);
      expect([...marks.marks.keys()].sort()).toEqual(['late', 'never']);

      documents.docs.push({ _id: 'late', ...embedOutbox([event('late')]) });
      jest.setSystemTime(Date.now() + 61_000);
      await expect(relay.drainOnce()).resolves.toBe(1);
      expect(published).toEqual(['user_registered:late']);
      expect(marks.marks.size).toBe(0);
    });

    it('sweeps by the flag again once the sweep interval has passed', async () => {
      const documents = new FakeDocuments([]);
      const { relay, published } = relayOver(documents, new FakeMarks(), { sweepIntervalMs: 600_000 });
      await expect(relay.drainOnce()).resolves.toBe(0);
      documents.docs.push({ _id: 'unmarked', ...embedOutbox([event('unmarked')]) });
      jest.setSystemTime(Date.now() + 599_000);
      await expect(relay.drainOnce()).resolves.toBe(0);
      jest.setSystemTime(Date.now() + 1_000);
      await expect(relay.drainOnce()).resolves.toBe(1);
      expect(published).toEqual(['user_registered:unmarked']);
      expect(documents.sweeps).toHaveLength(2);
    });

    it('sweeps again on the next pass when a sweep filled its batch', async () => {
      const documents = new FakeDocuments([
        { _id: 'a', events: [event('a')] },
        { _id: 'b', events: [event('b')] },
      ]);
      const { relay, published } = relayOver(documents, new FakeMarks(), { batchSize: 1 });
      await expect(relay.drainOnce()).resolves.toBe(1);
      await expect(relay.drainOnce()).resolves.toBe(1);
      await expect(relay.drainOnce()).resolves.toBe(0);
      expect(published).toEqual(['user_registered:a', 'user_registered:b']);
      expect(documents.sweeps).toHaveLength(3);
    });
  });

  it('keeps a mark that a writer renewed while the relay published', async () => {
    const documents = new FakeDocuments([{ _id: 'a', events: [event('a')] }]);
    const marks = new FakeMarks();
    await markOutbox(marks, 'a');
    let renewed = false;
    const relay = new MongoOutboxRelay({
      sources: [{ documents, marks }],
      logger: silent,
      sink: {
        publish: async () => {
          // A second write to the same document marks it again before appending its event.
          if (!renewed) await markOutbox(marks, 'a');
          renewed = true;
        },
      },
    });
    await relay.drainOnce();
    expect(marks.marks.has('a')).toBe(true);
    // The renewing write's event, appended after the relay read the document, goes on the next pass.
    documents.docs[0]!.outbox.push(event('a2'));
    documents.docs[0]!.outboxPending = true;
    await expect(relay.drainOnce()).resolves.toBe(1);
    expect(marks.marks.size).toBe(0);
  });

  it('keeps an event whose publish failed (the sidecar was down) and publishes it on the next pass', async () => {
    const collection = new FakeDocuments([{ _id: 'a', events: [event('a')] }]);
    let sidecarUp = false;
    let published = 0;
    const relay = new MongoOutboxRelay({
      sources: [{ documents: collection, marks: new FakeMarks() }],
      logger: silent,
      sink: {
        publish: async () => {
          if (!sidecarUp) throw new Error('sidecar unreachable');
          published += 1;
        },
      },
    });
    await expect(relay.drainOnce()).rejects.toThrow('sidecar unreachable');
    expect(collection.docs[0]!.outbox).toHaveLength(1);
    sidecarUp = true;
    await expect(relay.drainOnce()).resolves.toBe(1);
    expect(published).toBe(1);
    expect(collection.docs[0]!.outbox).toHaveLength(0);
  });

  it('builds events that satisfy the catalogue', () => {
    expect(() =>
      pendingEvent('user_registered', { userId: 'u', email: 'not-an-email', name: 'n', roles: [] }),
    ).toThrow();
    expect(event('u')).toMatchObject({
      topic: 'user_registered',
      payload: { schemaVersion: 1, userId: 'u' },
    });
  });
});
