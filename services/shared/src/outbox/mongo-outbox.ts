import { randomUUID } from 'node:crypto';
import type { EventInput, EventName, EventPayload } from '../events/catalogue';
import { buildEvent, systemEventClock, type EventClock } from '../events/envelope';
import type { Logger } from '../logging/logger';
import type { EventSink } from './sql-outbox';

/**
 * The embedded outbox of a MongoDB service. The MongoDB-protocol server of the
 * local stack (FerretDB v1) has no multi-document transactions, so an event
 * cannot be committed in a second collection together with the change that
 * causes it. Instead the event rides *inside* the changed document, in its
 * `outbox` array: one single-document write holds both the state and the event.
 * A relay then publishes the array's head and pops it. A crash between the
 * write and the publish leaves the event in the document for the next pass;
 * a crash between publish and pop publishes it again (at-least-once, consumers
 * dedupe on `eventId`).
 */
export const OUTBOX_FIELD = 'outbox';
/**
 * A flag beside the array, true while it may hold events. The relay does not look documents up by it
 * on every pass: FerretDB v1 answers a filter on any field but `_id` by reading the whole table. It
 * follows the marks instead (see `markOutbox`), and sweeps by the flag only now and then, for
 * documents written before marks existed.
 */
export const OUTBOX_PENDING_FIELD = 'outboxPending';

/**
 * Notes, before a write embeds events in document `id`, that the relay has to look at that document.
 * The marks live in a small collection of their own, keyed by the document's id: the relay reads them
 * all each pass and each document by its id, both cheap whatever the size of the documents'
 * collection. A mark comes first, so a document never holds an event without one; a mark whose write
 * never followed is dropped after a grace period.
 *
 * Written for events embedded when a document is inserted. FerretDB v1 runs a conditional update or
 * delete as a read, then a write by `_id`, not as one step: a document marked and appended to again
 * while the relay publishes could lose its renewed mark, or have its newer event overwritten by the
 * pop. The sweep would still find a raised flag, but not an overwritten event.
 */
export async function markOutbox(marks: OutboxCollection, id: string): Promise<void> {
  await marks.updateOne({ _id: id }, { $set: { nonce: randomUUID() } }, { upsert: true });
}

/** The fields a write embeds to carry `events` (spread them into the inserted document or `$set`). */
export function embedOutbox(events: PendingEvent[]): {
  [OUTBOX_FIELD]: PendingEvent[];
  [OUTBOX_PENDING_FIELD]: boolean;
} {
  return { [OUTBOX_FIELD]: events, [OUTBOX_PENDING_FIELD]: events.length > 0 };
}

/** One event waiting in a document's outbox. */
export interface PendingEvent {
  eventId: string;
  topic: EventName;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/** Builds (and validates against the catalogue) an event to embed in a document write. */
export function pendingEvent<K extends EventName>(
  name: K,
  input: EventInput<K>,
  clock: EventClock = systemEventClock,
): PendingEvent {
  const payload: EventPayload<K> = buildEvent(name, input, clock);
  return {
    eventId: payload.eventId,
    topic: name,
    payload,
    createdAt: clock.now(),
  };
}

/**
 * The slice of a MongoDB driver collection the relay uses; the driver's (and
 * mongoose's `model.collection`) satisfy it, and the shared package needs no
 * driver dependency of its own.
 */
export interface OutboxCollection {
  find(filter: Record<string, unknown>): {
    limit(n: number): { toArray(): Promise<Record<string, unknown>[]> };
  };
  updateOne(
    filter: Record<string, unknown>,
    update: Record<string, unknown>,
    options?: { upsert?: boolean },
  ): Promise<unknown>;
  deleteOne(filter: Record<string, unknown>): Promise<unknown>;
}

/** A collection whose documents may carry an `outbox` array, and the marks of those that may now. */
export interface OutboxSource {
  documents: OutboxCollection;
  marks: OutboxCollection;
}

export interface MongoOutboxRelayOptions {
  sources: OutboxSource[];
  sink: EventSink;
  logger: Logger;
  /** How often to look for marks when nobody kicked the relay. */
  pollIntervalMs?: number;
  /** How often to sweep the documents themselves for a raised flag without a mark (at start, then every this). */
  sweepIntervalMs?: number;
  /** How long a mark whose document does not exist is kept: the write it announced may be in flight. */
  orphanGraceMs?: number;
  batchSize?: number;
}

/**
 * Publishes the events embedded in documents, oldest first within a document,
 * and removes each one only after the sink accepted it. The removal is
 * conditional on the head still being that event, so two relays (two replicas)
 * never drop an event the other has not published.
 */
export class MongoOutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = true;
  private readonly pollIntervalMs: number;
  private readonly sweepIntervalMs: number;
  private readonly orphanGraceMs: number;
  private readonly batchSize: number;
  /** The first pass sweeps. */
  private nextSweepAt = 0;
  /** Marks found without their document, by id and nonce: when this relay first saw each alone. */
  private readonly orphansSince = new Map<string, number>();

  constructor(private readonly options: MongoOutboxRelayOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 600_000;
    this.orphanGraceMs = options.orphanGraceMs ?? 60_000;
    this.batchSize = options.batchSize ?? 100;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => 0);
  }

  /** Asks for a pass now (after a write that embedded an event), instead of at the next poll. */
  kick(): void {
    if (!this.stopped) this.schedule(0);
  }

  /** One pass over every collection; resolves with the number of events published. */
  async drainOnce(): Promise<number> {
    if (this.running) return this.running;
    this.running = this.drain().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.drainOnce()
        .catch((error: unknown) => {
          this.options.logger.warn({ err: error }, 'outbox relay pass failed; will retry');
          return 0;
        })
        .finally(() => {
          if (!this.stopped) this.schedule(this.pollIntervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  private async drain(): Promise<number> {
    const sweep = Date.now() >= this.nextSweepAt;
    let swept = 0;
    let published = 0;
    const alone = new Set<string>();
    for (const [source, { documents, marks }] of this.options.sources.entries()) {
      for (const mark of await marks.find({}).limit(this.batchSize).toArray()) {
        const [document] = await documents.find({ _id: mark._id }).limit(1).toArray();
        const key = `${source}:${String(mark._id)}:${String(mark.nonce)}`;
        if (document) {
          this.orphansSince.delete(key);
          published += await this.publishOutbox(documents, document);
        } else {
          // Timed from when this relay first found the mark alone.
          const since = this.orphansSince.get(key) ?? Date.now();
          this.orphansSince.set(key, since);
          alone.add(key);
          if (Date.now() - since < this.orphanGraceMs) continue;
          this.orphansSince.delete(key);
        }
        // Only this mark: a writer that marked the document again meanwhile left a new nonce.
        await marks.deleteOne({ _id: mark._id, nonce: mark.nonce });
      }
      if (!sweep) continue;
      const flagged = await documents
        .find({ [OUTBOX_PENDING_FIELD]: true })
        .limit(this.batchSize)
        .toArray();
      for (const document of flagged) published += await this.publishOutbox(documents, document);
      swept = Math.max(swept, flagged.length);
    }
    // Forget the marks that are gone (another replica dropped them) or have their document now.
    for (const key of this.orphansSince.keys()) if (!alone.has(key)) this.orphansSince.delete(key);
    // A full batch may have left more: the next pass sweeps again.
    if (sweep) this.nextSweepAt = swept < this.batchSize ? Date.now() + this.sweepIntervalMs : 0;
    return published;
  }

  /** Publishes the document's events oldest first, popping each once published; lowers its flag. */
  private async publishOutbox(
    collection: OutboxCollection,
    document: Record<string, unknown>,
  ): Promise<number> {
    const events = (document[OUTBOX_FIELD] ?? []) as PendingEvent[];
    for (const event of events) {
      await this.options.sink.publish(event.topic, event.payload as EventPayload<typeof event.topic>);
      await collection.updateOne(
        { _id: document._id, [`${OUTBOX_FIELD}.0.eventId`]: event.eventId },
        { $pop: { [OUTBOX_FIELD]: -1 } },
      );
      this.options.logger.debug({ topic: event.topic, eventId: event.eventId }, 'outbox event published');
    }
    // Lower the flag only if no event was appended meanwhile.
    await collection.updateOne(
      { _id: document._id, [`${OUTBOX_FIELD}.0`]: { $exists: false } },
      { $set: { [OUTBOX_PENDING_FIELD]: false } },
    );
    return events.length;
  }
}
