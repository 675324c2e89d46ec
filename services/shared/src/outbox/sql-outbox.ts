import { randomUUID } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import { DataSource, EntitySchema, type EntityManager } from 'typeorm';
import type { EventInput, EventName, EventPayload } from '../events/catalogue';
import { aggregateIdOf } from '../events/catalogue';
import { buildEvent, systemEventClock, type EventClock } from '../events/envelope';
import type { Logger } from '../logging/logger';
import { currentContext, runWithContext } from '../logging/request-context';
import { sqlRows } from '../store/sql';

/**
 * A row of the transactional outbox: an event committed with the change that caused it.
 *
 * Its life (every transition is one short statement of its own):
 * - pending: `publishedAt` and `deadLetteredAt` null. It may be claimed once it is the oldest
 *   pending row of its aggregate, no live lease holds it and its back-off (`retryAt`) is over.
 * - claimed: a relay pass holds a lease on it (`claimedBy`, `claimedUntil`) while it publishes it.
 *   A lease that runs out (the relay died) makes the row pending again.
 * - published: the sink accepted it (`publishedAt`). Final: no later failure can undo it.
 * - failed: back to pending with `attempts` + 1, `lastError`, and held until `retryAt`.
 * - dead-lettered: failed `maxAttempts` times (`deadLetteredAt`). Final until an operator
 *   requeues it (`requeueDeadLetter`).
 */
export interface OutboxRow {
  eventId: string;
  topic: string;
  aggregateId: string;
  payload: Record<string, unknown>;
  createdAt: Date;
  publishedAt: Date | null;
  /** Failed publishes so far; kept, never rolled back. */
  attempts: number;
  /** The relay pass holding the row while it publishes it. */
  claimedBy: string | null;
  /** When that pass's lease ends; after it another relay may take the row. */
  claimedUntil: Date | null;
  /** The back-off after a failure: the row is not retried before this time. */
  retryAt: Date | null;
  lastError: string | null;
  /** Set when the row gave up after `maxAttempts` failures; the relay publishes it no more. */
  deadLetteredAt: Date | null;
  /** The W3C trace context the event was enqueued in; it is published in the same trace. */
  traceparent: string | null;
  tracestate: string | null;
}

/**
 * Tables are created and altered from this schema by typeorm's `synchronize`
 * (see store/postgres.ts): the columns added after the first version are all
 * nullable, so the tables the services already hold gain them with
 * `ALTER TABLE ... ADD COLUMN` and their rows keep their meaning unchanged.
 */
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
    claimedBy: { name: 'claimed_by', type: 'text', nullable: true },
    claimedUntil: { name: 'claimed_until', type: 'timestamptz', nullable: true },
    retryAt: { name: 'retry_at', type: 'timestamptz', nullable: true },
    lastError: { name: 'last_error', type: 'text', nullable: true },
    deadLetteredAt: { name: 'dead_lettered_at', type: 'timestamptz', nullable: true },
    traceparent: { type: 'text', nullable: true },
    tracestate: { type: 'text', nullable: true },
  },
  indices: [
    // The claim looks for the oldest open row of each aggregate.
    {
      name: 'outbox_open',
      columns: ['aggregateId', 'createdAt', 'eventId'],
      where: 'published_at IS NULL AND dead_lettered_at IS NULL',
    },
    { name: 'outbox_dead_letters', columns: ['deadLetteredAt'], where: 'dead_lettered_at IS NOT NULL' },
  ],
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
 * The trace context of the work in progress goes with it, so the event is
 * published in the trace of the change that caused it.
 */
export async function enqueueEvent<K extends EventName>(
  manager: EntityManager,
  name: K,
  input: EventInput<K>,
  clock: EventClock = systemEventClock,
): Promise<EventPayload<K>> {
  const payload = buildEvent(name, input, clock);
  const trace = currentContext();
  // One prepared statement, not typeorm's insert builder, which builds and parses SQL per call and
  // asks for the defaulted columns back: events are enqueued in every write transaction.
  // clock_timestamp(), not now(): two events of one transaction keep the order they were enqueued in.
  await sqlRows(
    manager,
    `INSERT INTO outbox (event_id, topic, aggregate_id, payload, created_at, attempts, traceparent, tracestate)
     VALUES ($1, $2, $3, $4::jsonb, clock_timestamp(), 0, $5, $6)`,
    [
      payload.eventId,
      name,
      aggregateIdOf(name, payload),
      JSON.stringify(payload),
      trace?.traceparent ?? null,
      trace?.tracestate ?? null,
    ],
  );
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

/** A row a relay pass holds a lease on, with what it needs to publish it. */
export interface ClaimedEvent {
  eventId: string;
  topic: string;
  aggregateId: string;
  payload: Record<string, unknown>;
  /** Failed publishes before this claim. */
  attempts: number;
  traceparent: string | null;
  tracestate: string | null;
}

/** What a failed publish leaves on its row. */
export interface PublishFailure {
  error: string;
  /** Give the row up: it goes to the dead-letter state instead of back to pending. */
  deadLetter: boolean;
  /** The back-off before the row may be claimed again (ignored when dead-lettered). */
  retryAfterMs: number;
}

/** An event the relay gave up on, for an operator to inspect (and requeue once the cause is fixed). */
export interface DeadLetter {
  eventId: string;
  topic: string;
  aggregateId: string;
  payload: Record<string, unknown>;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  deadLetteredAt: Date;
}

/** How many rows wait to be published, and how many gave up. */
export interface OutboxBacklog {
  pending: number;
  deadLettered: number;
}

/**
 * The outbox table as the relay sees it. Every method is one short statement:
 * no transaction stays open while an event is being published.
 */
export interface OutboxStore {
  /**
   * Leases up to `limit` pending rows to `claimant` for `leaseMs`, oldest first, taking
   * only the oldest open row of each aggregate (so an aggregate's events leave in order).
   */
  claim(claimant: string, limit: number, leaseMs: number): Promise<ClaimedEvent[]>;
  /** Records that the sink accepted the row; whoever holds it now, it is never published again. */
  markPublished(eventId: string): Promise<void>;
  /** Counts a failed publish on a row `claimant` still holds, and backs it off or dead-letters it. */
  recordFailure(eventId: string, claimant: string, failure: PublishFailure): Promise<void>;
  /** Hands back rows `claimant` holds but did not try, without counting anything. */
  release(eventIds: string[], claimant: string): Promise<void>;
  deadLetters(limit: number): Promise<DeadLetter[]>;
  /** Makes a dead-lettered row pending again with a fresh count; false if it was not dead-lettered. */
  requeue(eventId: string): Promise<boolean>;
  backlog(): Promise<OutboxBacklog>;
}

const OPEN = 'published_at IS NULL AND dead_lettered_at IS NULL';

/** The outbox table of a service's PostgreSQL database. */
export class PgOutboxStore implements OutboxStore {
  constructor(private readonly dataSource: DataSource) {}

  async claim(claimant: string, limit: number, leaseMs: number): Promise<ClaimedEvent[]> {
    // `heads` comes from the statement's snapshot; FOR UPDATE re-checks the locked row's own
    // conditions against its latest version, so a row another relay claimed, published or
    // dead-lettered meanwhile is skipped, and a later row of its aggregate is never a head then.
    return this.rows<ClaimedEvent>(
      `WITH heads AS (
         SELECT DISTINCT ON (aggregate_id) event_id FROM outbox
         WHERE ${OPEN}
         ORDER BY aggregate_id, created_at, event_id
       ), ready AS (
         SELECT o.event_id FROM outbox o
         WHERE o.event_id IN (SELECT event_id FROM heads)
           AND o.published_at IS NULL AND o.dead_lettered_at IS NULL
           AND (o.claimed_until IS NULL OR o.claimed_until <= now())
           AND (o.retry_at IS NULL OR o.retry_at <= now())
         ORDER BY o.created_at, o.event_id
         LIMIT $1
         FOR UPDATE OF o SKIP LOCKED
       ), claimed AS (
         UPDATE outbox SET claimed_by = $2, claimed_until = now() + $3 * interval '1 millisecond'
         FROM ready WHERE outbox.event_id = ready.event_id
         RETURNING outbox.event_id, outbox.topic, outbox.aggregate_id, outbox.payload, outbox.attempts,
           outbox.traceparent, outbox.tracestate, outbox.created_at
       )
       SELECT event_id AS "eventId", topic, aggregate_id AS "aggregateId", payload, attempts, traceparent,
         tracestate
       FROM claimed ORDER BY created_at, event_id`,
      [limit, claimant, leaseMs],
    );
  }

  async markPublished(eventId: string): Promise<void> {
    await this.rows(
      `UPDATE outbox SET published_at = now(), claimed_by = NULL, claimed_until = NULL, retry_at = NULL,
         dead_lettered_at = NULL
       WHERE event_id = $1 AND published_at IS NULL`,
      [eventId],
    );
  }

  async recordFailure(eventId: string, claimant: string, failure: PublishFailure): Promise<void> {
    await this.rows(
      `UPDATE outbox SET attempts = attempts + 1, last_error = $3, claimed_by = NULL, claimed_until = NULL,
         retry_at = CASE WHEN $4 THEN NULL ELSE now() + $5 * interval '1 millisecond' END,
         dead_lettered_at = CASE WHEN $4 THEN now() END
       WHERE event_id = $1 AND claimed_by = $2 AND published_at IS NULL`,
      [eventId, claimant, failure.error, failure.deadLetter, failure.retryAfterMs],
    );
  }

  async release(eventIds: string[], claimant: string): Promise<void> {
    if (eventIds.length === 0) return;
    await this.rows(
      `UPDATE outbox SET claimed_by = NULL, claimed_until = NULL
       WHERE event_id = ANY($1::uuid[]) AND claimed_by = $2`,
      [eventIds, claimant],
    );
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    return this.rows<DeadLetter>(
      `SELECT event_id AS "eventId", topic, aggregate_id AS "aggregateId", payload, attempts,
         last_error AS "lastError", created_at AS "createdAt", dead_lettered_at AS "deadLetteredAt"
       FROM outbox WHERE dead_lettered_at IS NOT NULL
       ORDER BY dead_lettered_at DESC, event_id LIMIT $1`,
      [limit],
    );
  }

  async requeue(eventId: string): Promise<boolean> {
    const requeued = await this.rows(
      `UPDATE outbox SET dead_lettered_at = NULL, attempts = 0, retry_at = NULL
       WHERE event_id = $1 AND dead_lettered_at IS NOT NULL AND published_at IS NULL
       RETURNING event_id`,
      [eventId],
    );
    return requeued.length > 0;
  }

  async backlog(): Promise<OutboxBacklog> {
    // Two counts, each answered from its partial index.
    const [counts] = await this.rows<OutboxBacklog>(
      `SELECT (SELECT count(*) FROM outbox WHERE ${OPEN})::int AS pending,
         (SELECT count(*) FROM outbox WHERE dead_lettered_at IS NOT NULL)::int AS "deadLettered"`,
    );
    return counts ?? { pending: 0, deadLettered: 0 };
  }

  /** One statement in its own (auto-committed) transaction, with its rows whatever its kind. */
  private rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return sqlRows<T>(this.dataSource.manager, sql, params);
  }
}

/** The events a service's relay gave up on, newest first: the admin view of the dead-letter state. */
export function deadLetters(dataSource: DataSource, limit = 100): Promise<DeadLetter[]> {
  return new PgOutboxStore(dataSource).deadLetters(limit);
}

/**
 * Sends a dead-lettered event again (once its cause is fixed). It rejoins the
 * queue as its aggregate's oldest open row, so it may now follow events of its
 * aggregate that were published while it was dead-lettered.
 */
export function requeueDeadLetter(dataSource: DataSource, eventId: string): Promise<boolean> {
  return new PgOutboxStore(dataSource).requeue(eventId);
}

export interface OutboxRelayOptions {
  /** How often to look for unpublished rows when idle. */
  pollIntervalMs?: number;
  batchSize?: number;
  /** Upper bound of the relay's pause after a pass in which the sink accepted nothing. */
  maxBackoffMs?: number;
  /**
   * Failed publishes after which a row is dead-lettered (default 20: with the back-off doubling from
   * 1 s to its 5-min cap, about an hour, so a sidecar or Kafka outage shorter than that dead-letters
   * nothing; a row the sidecar refuses while it accepts others is poisoned and goes sooner or later).
   */
  maxAttempts?: number;
  /** A row's back-off after its first failure; it doubles with each further failure. */
  retryBaseMs?: number;
  /** Upper bound of a row's back-off. */
  retryMaxMs?: number;
  /** How long a pass holds the rows it claimed; must exceed `publishTimeoutMs`. */
  leaseMs?: number;
  /** A publish that has not answered after this long counts as failed. */
  publishTimeoutMs?: number;
  /** Measures the lease on the relay's side (tests move it by hand). */
  clock?: { now(): Date };
  /** Where the relay's metrics go; see also `registerMetrics`. */
  metrics?: Registry;
}

/** What one relay pass did. */
export interface RelayPass {
  claimed: number;
  published: number;
  failed: number;
  deadLettered: number;
}

/**
 * Consecutive failures after which a pass stops: the sink is then more likely
 * down than the events bad, and the untried rows should not pay for it. A
 * single failure does not stop it, so a poisoned row costs its neighbours nothing.
 */
const FAILURES_THAT_END_A_PASS = 2;

type PublishOutcome = { published: true } | { published: false; error: unknown };

/** The first pause after a pass that published nothing because publishes failed. */
const FIRST_BACKOFF_MS = 200;

/**
 * Publishes committed outbox rows: an aggregate's rows in commit order, other
 * aggregates' rows independently. A pass claims a batch in one short statement
 * (a lease, `FOR UPDATE SKIP LOCKED`, so replicas share the work), publishes
 * outside any transaction, and records each outcome in its own statement:
 * a published row stays published whatever happens next, a failure is counted
 * and backs the row off, and a row that fails `maxAttempts` times is
 * dead-lettered so it stops holding back the rows behind it.
 *
 * Ordering choice: a dead-lettered row no longer holds back the later rows of
 * its aggregate. Holding them would stall that order for good (its saga, its
 * cancellation) behind an event that will not go out; consumers already meet
 * each event at least once, and the saga's deadlines cover a missing step.
 *
 * A relay cannot tell a bad event from a sink that is down, so the defaults
 * give a row a long schedule (10 tries over about 8.5 minutes) and a pass stops
 * after two failures in a row. A sink outage longer than that schedule
 * dead-letters the rows it kept failing: `requeueDeadLetter` sends them again.
 *
 * Delivery stays at-least-once: a relay that dies between a publish and its
 * mark, or a publish that answers after its timeout, sends that row again.
 */
export class OutboxRelay {
  private readonly store: OutboxStore;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly maxBackoffMs: number;
  private readonly maxAttempts: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly leaseMs: number;
  private readonly publishTimeoutMs: number;
  private readonly clock: { now(): Date };
  private readonly metrics: RelayMetrics;
  private running = false;
  private stopping = false;
  private nudged = false;
  private backingOff = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  /** `source` is the service's DataSource (its outbox table) or any other OutboxStore. */
  constructor(
    source: DataSource | OutboxStore,
    private readonly sink: EventSink,
    private readonly logger: Logger,
    options: OutboxRelayOptions = {},
  ) {
    this.store = source instanceof DataSource ? new PgOutboxStore(source) : source;
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.batchSize = options.batchSize ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.maxAttempts = options.maxAttempts ?? 20;
    this.retryBaseMs = options.retryBaseMs ?? 1_000;
    this.retryMaxMs = options.retryMaxMs ?? 300_000;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
    this.clock = options.clock ?? { now: () => new Date() };
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new Error(`outbox maxAttempts must be a positive integer, got ${this.maxAttempts}`);
    }
    if (this.leaseMs <= this.publishTimeoutMs) {
      throw new Error(
        `outbox leaseMs (${this.leaseMs}) must exceed publishTimeoutMs (${this.publishTimeoutMs})`,
      );
    }
    this.metrics = relayMetrics(this.store, logger);
    if (options.metrics) this.registerMetrics(options.metrics);
  }

  /** Adds the relay's counters and its backlog gauge to a service's registry. */
  registerMetrics(registry: Registry): void {
    const { published, failures, deadLettered, backlog } = this.metrics;
    registry.registerMetric(published);
    registry.registerMetric(failures);
    registry.registerMetric(deadLettered);
    registry.registerMetric(backlog);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Asks the relay to look now (after a commit) rather than at its next poll. */
  nudge(): void {
    this.nudged = true;
    // A pause after failed publishes is kept: a commit does not bring the sink back.
    if (!this.backingOff) this.wake?.();
  }

  /** Ends the loop; a pass in progress finishes the publish it is in and hands back the rest. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  /** One pass: claims a batch, publishes it, and records each outcome. */
  async drainOnce(): Promise<RelayPass> {
    const claimant = randomUUID();
    // Measured from before the claim, so the relay's deadline falls before the database's.
    const stopBy = this.clock.now().getTime() + this.leaseMs - this.publishTimeoutMs;
    const rows = await this.store.claim(claimant, this.batchSize, this.leaseMs);
    const pass: RelayPass = { claimed: rows.length, published: 0, failed: 0, deadLettered: 0 };
    let tried = 0;
    let failuresInARow = 0;
    try {
      for (const row of rows) {
        if (this.stopping || failuresInARow >= FAILURES_THAT_END_A_PASS) break;
        if (this.clock.now().getTime() >= stopBy) break;
        tried += 1;
        const outcome = await this.publish(row);
        if (outcome.published) {
          await this.store.markPublished(row.eventId);
          this.metrics.published.inc({ topic: row.topic });
          pass.published += 1;
          failuresInARow = 0;
        } else {
          const deadLettered = await this.recordFailure(row, claimant, outcome.error);
          pass.failed += 1;
          if (deadLettered) pass.deadLettered += 1;
          failuresInARow += 1;
        }
      }
    } finally {
      await this.release(rows.slice(tried), claimant);
    }
    return pass;
  }

  private async publish(row: ClaimedEvent): Promise<PublishOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`publish of ${row.topic} did not answer within ${this.publishTimeoutMs} ms`));
      }, this.publishTimeoutMs);
    });
    // Published inside the trace it was enqueued in: the sidecar reads the context from there.
    const context = {
      ...(row.traceparent === null ? {} : { traceparent: row.traceparent }),
      ...(row.tracestate === null ? {} : { tracestate: row.tracestate }),
    };
    try {
      await Promise.race([
        runWithContext(context, () =>
          this.sink.publish(row.topic as EventName, row.payload as unknown as EventPayload<EventName>),
        ),
        timeout,
      ]);
      return { published: true };
    } catch (error) {
      return { published: false, error };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Counts the failure on the row; returns true when that was its last allowed attempt. */
  private async recordFailure(row: ClaimedEvent, claimant: string, error: unknown): Promise<boolean> {
    const attempts = row.attempts + 1;
    const deadLetter = attempts >= this.maxAttempts;
    const retryAfterMs = Math.min(this.retryMaxMs, this.retryBaseMs * 2 ** (attempts - 1));
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 2_000);
    await this.store.recordFailure(row.eventId, claimant, { error: message, deadLetter, retryAfterMs });
    this.metrics.failures.inc({ topic: row.topic });
    const fields = { err: error, eventId: row.eventId, topic: row.topic, attempts };
    if (deadLetter) {
      this.metrics.deadLettered.inc({ topic: row.topic });
      this.logger.error(fields, 'outbox event dead-lettered after its last attempt');
    } else {
      this.logger.warn({ ...fields, retryAfterMs }, 'outbox publish failed; will retry');
    }
    return deadLetter;
  }

  private async release(rows: ClaimedEvent[], claimant: string): Promise<void> {
    if (rows.length === 0) return;
    try {
      await this.store.release(
        rows.map((r) => r.eventId),
        claimant,
      );
    } catch (error) {
      // Their lease runs out on its own; an error here must not hide the pass's own.
      this.logger.warn({ err: error, rows: rows.length }, 'releasing untried outbox rows failed');
    }
  }

  private takeNudge(): boolean {
    const nudged = this.nudged;
    this.nudged = false;
    return nudged;
  }

  private async run(): Promise<void> {
    let backoff = 0;
    while (this.running) {
      this.takeNudge(); // this pass sees whatever was committed before it
      let pass: RelayPass | undefined;
      try {
        pass = await this.drainOnce();
      } catch (error) {
        this.logger.warn({ err: error }, 'outbox relay pass failed; will retry');
      }
      const sinkDown = pass === undefined || (pass.failed > 0 && pass.published === 0);
      backoff = sinkDown ? Math.min(this.maxBackoffMs, backoff === 0 ? FIRST_BACKOFF_MS : backoff * 2) : 0;
      // A full batch may have more behind it; a nudge during the pass may have brought more.
      const nudged = this.takeNudge();
      if (!sinkDown && (pass?.claimed === this.batchSize || nudged)) continue;
      this.backingOff = backoff > 0;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoff || this.pollIntervalMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      this.backingOff = false;
    }
  }
}

interface RelayMetrics {
  published: Counter<'topic'>;
  failures: Counter<'topic'>;
  deadLettered: Counter<'topic'>;
  backlog: Gauge<'state'>;
}

/** A counter by topic, registered where the relay is told (registerMetrics), not globally. */
function topicCounter(name: string, help: string): Counter<'topic'> {
  return new Counter({ name, help, labelNames: ['topic'] as const, registers: [] });
}

function relayMetrics(store: OutboxStore, logger: Logger): RelayMetrics {
  return {
    published: topicCounter('outbox_events_published_total', 'Outbox events the sink accepted.'),
    failures: topicCounter(
      'outbox_publish_failures_total',
      'Failed publishes of outbox events (each one counted on its row).',
    ),
    deadLettered: topicCounter(
      'outbox_events_dead_lettered_total',
      'Outbox events given up after their last allowed attempt.',
    ),
    backlog: new Gauge({
      name: 'outbox_unpublished_events',
      help: 'Unpublished outbox events: pending, or dead_lettered (waiting for an operator).',
      labelNames: ['state'] as const,
      registers: [],
      async collect() {
        try {
          const counts = await store.backlog();
          this.set({ state: 'pending' }, counts.pending);
          this.set({ state: 'dead_lettered' }, counts.deadLettered);
        } catch (error) {
          logger.warn({ err: error }, 'counting the outbox backlog failed');
        }
      },
    }),
  };
}
