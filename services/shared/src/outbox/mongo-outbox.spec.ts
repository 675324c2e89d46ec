import pino from 'pino';
import type { EventName, EventPayload } from '../events/catalogue';
import {
  embedOutbox,
  MongoOutboxRelay,
  OUTBOX_FIELD,
  OUTBOX_PENDING_FIELD,
  pendingEvent,
  type OutboxCollection,
  type PendingEvent,
} from './mongo-outbox';

type Doc = { _id: string; [OUTBOX_FIELD]: PendingEvent[]; [OUTBOX_PENDING_FIELD]: boolean };

/** Documents with an embedded outbox, honouring the relay's flag query, conditional pop and conditional flag reset. */
class FakeCollection implements OutboxCollection {
  readonly docs: Doc[];
  constructor(docs: { _id: string; events: PendingEvent[] }[]) {
    this.docs = docs.map((d) => ({ _id: d._id, ...embedOutbox(d.events) }));
  }
  find(filter: Record<string, unknown>) {
    expect(filter).toEqual({ [OUTBOX_PENDING_FIELD]: true });
    const matching = this.docs.filter((d) => d[OUTBOX_PENDING_FIELD]).map((d) => structuredClone(d));
    return { limit: (n: number) => ({ toArray: async () => matching.slice(0, n) }) };
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
}

const silent = pino({ level: 'silent' });
const event = (userId: string) =>
  pendingEvent('user_registered', { userId, email: `${userId}@example.com`, name: userId, roles: [] });

describe('MongoOutboxRelay', () => {
  it('publishes embedded events in order and removes each only after it was published', async () => {
    const collection = new FakeCollection([
      { _id: 'a', events: [event('a'), event('a2')] },
      { _id: 'b', events: [] },
    ]);
    const published: string[] = [];
    const relay = new MongoOutboxRelay({
      collections: [collection],
      logger: silent,
      sink: {
        publish: async <K extends EventName>(name: K, payload: EventPayload<K>) => {
          published.push(`${name}:${(payload as { userId: string }).userId}`);
        },
      },
    });
    await expect(relay.drainOnce()).resolves.toBe(2);
    expect(published).toEqual(['user_registered:a', 'user_registered:a2']);
    expect(collection.docs[0]!.outbox).toEqual([]);
    expect(collection.docs[0]!.outboxPending).toBe(false);
    await expect(relay.drainOnce()).resolves.toBe(0);
  });

  it('keeps an event whose publish failed (the sidecar was down) and publishes it on the next pass', async () => {
    const collection = new FakeCollection([{ _id: 'a', events: [event('a')] }]);
    let sidecarUp = false;
    let published = 0;
    const relay = new MongoOutboxRelay({
      collections: [collection],
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
