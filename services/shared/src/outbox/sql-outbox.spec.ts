import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { eventually } from '../../../../stack/test/support/eventually';
import type { EventName, EventPayload } from '../events/catalogue';
import { currentContext, runWithContext } from '../logging/request-context';
import {
  OutboxRelay,
  type ClaimedEvent,
  type DeadLetter,
  type EventSink,
  type OutboxBacklog,
  type OutboxRelayOptions,
  type OutboxStore,
  type PublishFailure,
} from './sql-outbox';

class ManualClock {
  constructor(private ms = Date.parse('2030-01-01T00:00:00Z')) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

interface FakeRow extends ClaimedEvent {
  /** Commit order. */
  seq: number;
  publishedAt: number | null;
  claimedBy: string | null;
  claimedUntil: number | null;
  retryAt: number | null;
  lastError: string | null;
  deadLetteredAt: number | null;
}

/** The outbox table in memory, with the claim rules of PgOutboxStore on a clock the test moves. */
class FakeOutbox implements OutboxStore {
  readonly rows: FakeRow[] = [];
  private seq = 0;

  constructor(private readonly clock: ManualClock) {}

  add(aggregateId: string, trace: { traceparent?: string; tracestate?: string } = {}): string {
    const eventId = randomUUID();
    this.rows.push({
      eventId,
      topic: 'order_cancelled',
      aggregateId,
      payload: { eventId, orderId: aggregateId },
      attempts: 0,
      traceparent: trace.traceparent ?? null,
      tracestate: trace.tracestate ?? null,
      seq: (this.seq += 1),
      publishedAt: null,
      claimedBy: null,
      claimedUntil: null,
      retryAt: null,
      lastError: null,
      deadLetteredAt: null,
    });
    return eventId;
  }

  row(eventId: string): FakeRow {
    const row = this.rows.find((r) => r.eventId === eventId);
    if (!row) throw new Error(`no row ${eventId}`);
    return row;
  }

  async claim(claimant: string, limit: number, leaseMs: number): Promise<ClaimedEvent[]> {
    const now = this.clock.now().getTime();
    const open = this.rows.filter((r) => r.publishedAt === null && r.deadLetteredAt === null);
    const heads = new Map<string, FakeRow>();
    for (const row of open) {
      const head = heads.get(row.aggregateId);
      if (!head || row.seq < head.seq) heads.set(row.aggregateId, row);
    }
    const ready = [...heads.values()]
      .filter(
        (r) => (r.claimedUntil === null || r.claimedUntil <= now) && (r.retryAt === null || r.retryAt <= now),
      )
      .sort((a, b) => a.seq - b.seq)
      .slice(0, limit);
    for (const row of ready) {
      row.claimedBy = claimant;
      row.claimedUntil = now + leaseMs;
    }
    return ready.map((r) => ({
      eventId: r.eventId,
      topic: r.topic,
      aggregateId: r.aggregateId,
      payload: structuredClone(r.payload),
      attempts: r.attempts,
      traceparent: r.traceparent,
      tracestate: r.tracestate,
    }));
  }

  async markPublished(eventId: string): Promise<void> {
    const row = this.row(eventId);
    if (row.publishedAt !== null) return;
    Object.assign(row, {
      publishedAt: this.clock.now().getTime(),
      claimedBy: null,
      claimedUntil: null,
      retryAt: null,
      deadLetteredAt: null,
    });
  }

  async recordFailure(eventId: string, claimant: string, failure: PublishFailure): Promise<void> {
    const row = this.row(eventId);
    if (row.claimedBy !== claimant || row.publishedAt !== null) return;
    const now = this.clock.now().getTime();
    Object.assign(row, {
      attempts: row.attempts + 1,
      lastError: failure.error,
      claimedBy: null,
      claimedUntil: null,
      retryAt: failure.deadLetter ? null : now + failure.retryAfterMs,
      deadLetteredAt: failure.deadLetter ? now : null,
    });
  }

  async release(eventIds: string[], claimant: string): Promise<void> {
    for (const row of this.rows) {
      if (eventIds.includes(row.eventId) && row.claimedBy === claimant) {
        row.claimedBy = null;
        row.claimedUntil = null;
      }
    }
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    return this.rows
      .filter((r) => r.deadLetteredAt !== null)
      .slice(0, limit)
      .map((r) => ({
        eventId: r.eventId,
        topic: r.topic,
        aggregateId: r.aggregateId,
        payload: r.payload,
        attempts: r.attempts,
        lastError: r.lastError,
        createdAt: new Date(0),
        deadLetteredAt: new Date(r.deadLetteredAt ?? 0),
      }));
  }

  async requeue(eventId: string): Promise<boolean> {
    const row = this.row(eventId);
    if (row.deadLetteredAt === null) return false;
    Object.assign(row, { deadLetteredAt: null, attempts: 0, retryAt: null });
    return true;
  }

  async backlog(): Promise<OutboxBacklog> {
    const open = this.rows.filter((r) => r.publishedAt === null);
    return {
      pending: open.filter((r) => r.deadLetteredAt === null).length,
      deadLettered: open.filter((r) => r.deadLetteredAt !== null).length,
    };
  }
}

/** Records every publish it is asked for; `fails` decides which ones throw. */
class ScriptedSink implements EventSink {
  readonly calls: { eventId: string; ok: boolean; traceparent: string | undefined }[] = [];
  fails: (eventId: string) => boolean = () => false;
  /** Runs during each publish (to move the clock, or to never answer). */
  during: () => Promise<void> = async () => undefined;

  async publish<K extends EventName>(_name: K, payload: EventPayload<K>): Promise<void> {
    const { eventId } = payload;
    const traceparent = currentContext()?.traceparent;
    await this.during();
    const ok = !this.fails(eventId);
    this.calls.push({ eventId, ok, traceparent });
    if (!ok) throw new Error(`sidecar refused ${eventId}`);
  }

  /** The events the sink accepted, in order. */
  accepted(): string[] {
    return this.calls.filter((c) => c.ok).map((c) => c.eventId);
  }

  attemptsOf(eventId: string): number {
    return this.calls.filter((c) => c.eventId === eventId).length;
  }
}

const silent = pino({ level: 'silent' });

describe('OutboxRelay', () => {
  let clock: ManualClock;
  let outbox: FakeOutbox;
  let sink: ScriptedSink;
  const relayOver = (options: OutboxRelayOptions = {}) =>
    new OutboxRelay(outbox, sink, silent, {
      clock,
      maxAttempts: 3,
      retryBaseMs: 1_000,
      retryMaxMs: 4_000,
      ...options,
    });

  beforeEach(() => {
    clock = new ManualClock();
    outbox = new FakeOutbox(clock);
    sink = new ScriptedSink();
  });

  it('publishes open rows oldest first, marks each one, and never publishes it again', async () => {
    const ids = ['a', 'b', 'c'].map((aggregate) => outbox.add(aggregate));
    const relay = relayOver();

    await expect(relay.drainOnce()).resolves.toEqual({
      claimed: 3,
      published: 3,
      failed: 0,
      deadLettered: 0,
    });
    await expect(relay.drainOnce()).resolves.toEqual({
      claimed: 0,
      published: 0,
      failed: 0,
      deadLettered: 0,
    });

    expect(sink.accepted()).toEqual(ids);
    expect(outbox.rows.every((r) => r.publishedAt !== null && r.claimedBy === null)).toBe(true);
  });

  it('keeps what it published before a failure, counts the failure, and hands back untried rows', async () => {
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((aggregate) => outbox.add(aggregate)) as [
      string,
      string,
      string,
      string,
      string,
    ];
    sink.fails = (id) => id === c || id === d;
    const relay = relayOver();

    // Two failures in a row end the pass: the sink is likelier down than the events bad.
    await expect(relay.drainOnce()).resolves.toEqual({
      claimed: 5,
      published: 2,
      failed: 2,
      deadLettered: 0,
    });
    expect(outbox.row(a).publishedAt).not.toBeNull();
    expect(outbox.row(b).publishedAt).not.toBeNull();
    for (const failed of [c, d]) {
      expect(outbox.row(failed)).toMatchObject({
        attempts: 1,
        lastError: `sidecar refused ${failed}`,
        claimedBy: null,
        retryAt: clock.now().getTime() + 1_000,
      });
    }
    expect(outbox.row(e)).toMatchObject({
      attempts: 0,
      claimedBy: null,
      claimedUntil: null,
      publishedAt: null,
    });

    sink.fails = () => false;
    await expect(relay.drainOnce()).resolves.toMatchObject({ claimed: 1, published: 1 });
    clock.advance(1_000);
    await expect(relay.drainOnce()).resolves.toMatchObject({ claimed: 2, published: 2 });

    expect(sink.accepted()).toEqual([a, b, e, c, d]);
    expect(outbox.rows.every((r) => r.publishedAt !== null)).toBe(true);
  });

  it('does not let a poisoned row hold back the others, and dead-letters it after maxAttempts', async () => {
    const poison = outbox.add('poisoned-order');
    const others = ['b', 'c', 'd'].map((aggregate) => outbox.add(aggregate));
    sink.fails = (id) => id === poison;
    const metrics = new Registry();
    const relay = relayOver({ metrics });

    await expect(relay.drainOnce()).resolves.toEqual({
      claimed: 4,
      published: 3,
      failed: 1,
      deadLettered: 0,
    });
    expect(sink.accepted()).toEqual(others);

    clock.advance(1_000);
    await expect(relay.drainOnce()).resolves.toMatchObject({ failed: 1, deadLettered: 0 });
    clock.advance(2_000);
    await expect(relay.drainOnce()).resolves.toMatchObject({ failed: 1, deadLettered: 1 });
    clock.advance(60_000);
    await expect(relay.drainOnce()).resolves.toMatchObject({ claimed: 0 });

    expect(sink.attemptsOf(poison)).toBe(3);
    expect(outbox.row(poison)).toMatchObject({ attempts: 3, publishedAt: null, retryAt: null });
    expect(outbox.row(poison).deadLetteredAt).not.toBeNull();
    await expect(outbox.deadLetters(10)).resolves.toEqual([
      expect.objectContaining({ eventId: poison, attempts: 3, lastError: `sidecar refused ${poison}` }),
    ]);
    const exposed = await metrics.metrics();
    expect(exposed).toContain('outbox_events_dead_lettered_total{topic="order_cancelled"} 1');
    expect(exposed).toContain('outbox_publish_failures_total{topic="order_cancelled"} 3');
    expect(exposed).toContain('outbox_events_published_total{topic="order_cancelled"} 3');
    expect(exposed).toContain('outbox_unpublished_events{state="dead_lettered"} 1');
    expect(exposed).toContain('outbox_unpublished_events{state="pending"} 0');
  });

  it('backs a failing row off exponentially, up to retryMaxMs', async () => {
    const row = outbox.add('a');
    sink.fails = () => true;
    const relay = relayOver({ maxAttempts: 6 });
    const backoffs: number[] = [];
    for (let pass = 0; pass < 5; pass += 1) {
      await relay.drainOnce();
      const { retryAt } = outbox.row(row);
      backoffs.push((retryAt ?? 0) - clock.now().getTime());
      clock.advance(backoffs.at(-1) ?? 0);
    }
    expect(backoffs).toEqual([1_000, 2_000, 4_000, 4_000, 4_000]);
  });

  it("keeps an aggregate's events in order: a later row waits while an earlier one is retried", async () => {
    const first = outbox.add('order-x');
    const second = outbox.add('order-x');
    const other = outbox.add('order-y');
    sink.fails = (id) => id === first && sink.attemptsOf(first) === 0;
    const relay = relayOver();

    await expect(relay.drainOnce()).resolves.toMatchObject({ claimed: 2, published: 1, failed: 1 });
    await expect(relay.drainOnce()).resolves.toMatchObject({ claimed: 0 });
    clock.advance(1_000);
    await relay.drainOnce();
    await relay.drainOnce();

    expect(sink.accepted()).toEqual([other, first, second]);
  });

  it('lets the later rows of an aggregate go once its earlier row is dead-lettered', async () => {
    const poison = outbox.add('order-x');
    const later = outbox.add('order-x');
    sink.fails = (id) => id === poison;
    const relay = relayOver({ maxAttempts: 1 });

    await expect(relay.drainOnce()).resolves.toMatchObject({ claimed: 1, deadLettered: 1 });
    await expect(relay.drainOnce()).resolves.toMatchObject({ claimed: 1, published: 1 });

    expect(sink.accepted()).toEqual([later]);
  });

  it('publishes nothing past its lease: it stops in time and hands the rest back', async () => {
    const ids = ['a', 'b', 'c', 'd'].map((aggregate) => outbox.add(aggregate));
    sink.during = async () => {
      clock.advance(500);
    };
    const relay = relayOver({ leaseMs: 1_000, publishTimeoutMs: 100 });

    await expect(relay.drainOnce()).resolves.toMatchObject({ claimed: 4, published: 2 });

    expect(sink.accepted()).toEqual(ids.slice(0, 2));
    for (const id of ids.slice(2)) {
      expect(outbox.row(id)).toMatchObject({ claimedBy: null, claimedUntil: null, attempts: 0 });
    }
  });

  it('counts a publish that does not answer as a failure', async () => {
    const row = outbox.add('a');
    sink.during = () => new Promise<void>(() => undefined);
    const relay = relayOver({ publishTimeoutMs: 20, leaseMs: 1_000 });

    await expect(relay.drainOnce()).resolves.toMatchObject({ published: 0, failed: 1 });
    expect(outbox.row(row)).toMatchObject({ attempts: 1 });
    expect(outbox.row(row).lastError).toMatch(/did not answer within 20 ms/);
  });

  it('publishes each event in the trace it was enqueued in, and no other', async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const traced = outbox.add('a', { traceparent });
    const untraced = outbox.add('b');
    const relay = relayOver();

    await runWithContext({ traceparent: '00-11111111111111111111111111111111-2222222222222222-01' }, () =>
      relay.drainOnce(),
    );

    expect(sink.calls).toEqual([
      { eventId: traced, ok: true, traceparent },
      { eventId: untraced, ok: true, traceparent: undefined },
    ]);
  });

  it('runs passes on its own once started, and a nudge brings new rows out', async () => {
    const relay = relayOver({ pollIntervalMs: 60_000 });
    relay.start();
    try {
      const first = outbox.add('a');
      relay.nudge();
      await eventually(
        async () => sink.accepted(),
        (ids) => ids.includes(first),
        { what: 'first row' },
      );
      const second = outbox.add('b');
      relay.nudge();
      await eventually(
        async () => sink.accepted(),
        (ids) => ids.includes(second),
        { what: 'second row' },
      );
    } finally {
      await relay.stop();
    }
  });

  it('refuses settings that could publish past a lease or never give up', () => {
    expect(() => relayOver({ leaseMs: 1_000, publishTimeoutMs: 1_000 })).toThrow(/leaseMs/);
    expect(() => relayOver({ maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});
