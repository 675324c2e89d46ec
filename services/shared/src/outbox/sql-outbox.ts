import { EntitySchema, type DataSource, type EntityManager } from 'typeorm';
import type { EventInput, EventName, EventPayload } from '../events/catalogue';
import { aggregateIdOf } from '../events/catalogue';
import { buildEvent, systemEventClock, type EventClock } from '../events/envelope';
import type { Logger } from '../logging/logger';

/** A row of the transactional outbox: an event committed with the change that caused it, not yet published. */
export interface OutboxRow {
  eventId: string;
  topic: string;
  aggregateId: string;
  payload: Record<string, unknown>;
  createdAt: Date;
  publishedAt: Date | null;
  attempts: number;
}

export const OutboxEntity = new EntitySchema<OutboxRow>({
  name: 'OutboxRow',
  tableName: 'outbox',
  columns: {
    eventId: { name: 'event_id', type: 'uuid', primary: true },
    topic: { type: 'text' },
    aggregateId: { name: 'aggregate_id', type: 'text' },
    payload: { type: 'jsonb' },
    createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
    publishedAt: { name: 'published_at', type: 'timestamptz', nullable: true },
    attempts: { type: 'int', default: 0 },
  },
  indices: [{ name: 'outbox_unpublished', columns: ['createdAt'], where: 'published_at IS NULL' }],
});

/** A consumed event, recorded in the same transaction as its effect so a redelivery has none. */
export interface InboxRow {
  consumer: string;
  eventId: string;
  processedAt: Date;
}

export const InboxEntity = new EntitySchema<InboxRow>({
  name: 'InboxRow',
  tableName: 'inbox',
  columns: {
    consumer: { type: 'text', primary: true },
    eventId: { name: 'event_id', type: 'uuid', primary: true },
    processedAt: { name: 'processed_at', type: 'timestamptz', createDate: true },
  },
});

/** Entities a service using the outbox must register with its DataSource. */
export const outboxEntities = [OutboxEntity, InboxEntity];

/** Where an outbox relay sends events. */
export interface EventSink {
  publish<K extends EventName>(name: K, payload: EventPayload<K>): Promise<void>;
}

/**
 * Records an event inside the caller's transaction. It is published only if,
 * and after, that transaction commits: there is no "write, then publish".
 */
export async function enqueueEvent<K extends EventName>(
  manager: EntityManager,
  name: K,
  input: EventInput<K>,
  clock: EventClock = systemEventClock,
): Promise<EventPayload<K>> {
  const payload = buildEvent(name, input, clock);
  // jsonb goes through the query builder as a parameter; typeorm's deep-partial type does not model it.
  await manager
    .createQueryBuilder()
    .insert()
    .into(OutboxEntity)
    .values({
      eventId: payload.eventId,
      topic: name,
      aggregateId: aggregateIdOf(name, payload),
      payload: () => ':payload',
      attempts: 0,
    })
    .setParameter('payload', JSON.stringify(payload))
    .execute();
  return payload;
}

/**
 * Runs `effect` once per (consumer, event id): the inbox row and the effect
 * commit together, so a redelivered event finds the row and does nothing.
 * Returns false when the event had already been processed.
 */
export async function processOnce(
  dataSource: DataSource,
  consumer: string,
  eventId: string,
  effect: (manager: EntityManager) => Promise<void>,
): Promise<boolean> {
  return dataSource.transaction(async (manager) => {
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(InboxEntity)
      .values({ consumer, eventId })
      .orIgnore()
      .returning(['event_id'])
      .execute();
    if ((inserted.raw as unknown[]).length === 0) return false;
    await effect(manager);
    return true;
  });
}

export interface OutboxRelayOptions {
  /** How often to look for unpublished rows when idle. */
  pollIntervalMs?: number;
  batchSize?: number;
  /** Upper bound of the back-off after publish failures. */
  maxBackoffMs?: number;
}

/**
 * Publishes committed outbox rows in commit order. Rows are claimed with
 * `FOR UPDATE SKIP LOCKED`, so several replicas share the work without
 * publishing a row twice at the same time; a crash between publish and mark
 * republishes that row, which consumers absorb (at-least-once).
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly maxBackoffMs: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly sink: EventSink,
    private readonly logger: Logger,
    options: OutboxRelayOptions = {},
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.batchSize = options.batchSize ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Asks the relay to look now (after a commit) rather than at its next poll. */
  nudge(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Publishes what is pending now; returns how many rows were published. */
  async drainOnce(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager
        .getRepository(OutboxEntity)
        .createQueryBuilder('o')
        .where('o.published_at IS NULL')
        .orderBy('o.created_at', 'ASC')
        .addOrderBy('o.event_id', 'ASC')
        .limit(this.batchSize)
        .setLock('pessimistic_write')
        .setOnLocked('skip_locked')
        .getMany();
      let published = 0;
      for (const row of rows) {
        try {
          await this.sink.publish(row.topic as EventName, row.payload as unknown as EventPayload<EventName>);
        } catch (error) {
          await manager.increment(OutboxEntity, { eventId: row.eventId }, 'attempts', 1);
          throw error;
        }
        await manager.update(OutboxEntity, { eventId: row.eventId }, { publishedAt: new Date() });
        published += 1;
      }
      return published;
    });
  }

  private async run(): Promise<void> {
    let backoff = 0;
    while (this.running) {
      let published = 0;
      try {
        published = await this.drainOnce();
        backoff = 0;
      } catch (error) {
        backoff = Math.min(this.maxBackoffMs, backoff === 0 ? 200 : backoff * 2);
        this.logger.warn({ err: error, backoffMs: backoff }, 'outbox publish failed; will retry');
      }
      if (published === this.batchSize && backoff === 0) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoff || this.pollIntervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}
