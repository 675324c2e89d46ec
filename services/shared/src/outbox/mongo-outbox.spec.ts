import pino from 'pino';
import type { EventName, EventPayload } from '../events/catalogue';
import {
  MongoOutboxRelay,
  OUTBOX_FIELD,
  pendingEvent,
  type OutboxCollection,
  type PendingEvent,
} from './mongo-outbox';

/** A collection of documents with an embedded outbox, honouring the relay's conditional pop. */
class FakeCollection implements OutboxCollection {
  constructor(readonly docs: { _id: string; [OUTBOX_FIELD]: PendingEvent[] }[]) {}
  find(filter: Record<string, unknown>) {
    expect(filter).toEqual({ [`${OUTBOX_FIELD}.0`]: { $exists: true } });
    const matching = this.docs.filter((d) => d[OUTBOX_FIELD].length > 0).map((d) => structuredClone(d));
    return { limit: (n: number) => ({ toArray: async () => matching.slice(0, n) }) };
  }
  async updateOne(filter: Record<string, unknown>): Promise<unknown> {
    const doc = this.docs.find((d) => d._id === filter._id);
    if (doc && doc[OUTBOX_FIELD][0]?.eventId === filter[`${OUTBOX_FIELD}.0.eventId`])
      doc[OUTBOX_FIELD].shift();
    return {};
  }
}

const silent = pino({ level: 'silent' });
const event = (userId: string) =>
  pendingEvent('user_registered', { userId, email: `${userId}@example.com`, name: userId, roles: [] });

describe('MongoOutboxRelay', () => {
  it('publishes embedded events in order and removes each only after it was published', async () => {
    const collection = new FakeCollection([
      { _id: 'a', outbox: [event('a'), event('a2')] },
      { _id: 'b', outbox: [] },
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
    await expect(relay.drainOnce()).resolves.toBe(0);
  });

  it('keeps an event whose publish failed (the sidecar was down) and publishes it on the next pass', async () => {
    const collection = new FakeCollection([{ _id: 'a', outbox: [event('a')] }]);
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
