import pino from 'pino';
import { backoffMs, Dispatcher } from './dispatcher';
import { PermanentDeliveryError, type Notification } from './notification';
import type { Resolution } from './notification-service';
import type { AttemptOutcome, ChannelProvider, NotificationQuery, NotificationStore } from './ports';

class MemoryStore implements NotificationStore {
  readonly rows = new Map<string, Notification>();
  async insertIfAbsent(n: Notification): Promise<'created' | 'exists'> {
    if (this.rows.has(n.id)) return 'exists';
    this.rows.set(n.id, { ...n });
    return 'created';
  }
  async dueIds(now: Date, limit: number): Promise<string[]> {
    return [...this.rows.values()]
      .filter((n) => n.status === 'queued' && n.nextAttemptAt <= now)
      .slice(0, limit)
      .map((n) => n.id);
  }
  async claim(id: string, now: Date, leaseMs: number): Promise<Notification | undefined> {
    const due = this.rows.get(id);
    if (!due || due.status !== 'queued' || due.nextAttemptAt > now) return undefined;
    due.attempts += 1;
    due.nextAttemptAt = new Date(now.getTime() + leaseMs);
    return { ...due };
  }
  async resolve(
    id: string,
    attempt: number,
    fields: Pick<Notification, 'userId' | 'recipient' | 'subject' | 'body'>,
  ): Promise<void> {
    const row = this.rows.get(id);
    if (row && row.status === 'queued' && row.attempts === attempt)
      Object.assign(row, fields, { awaitingContext: false });
  }
  async complete(id: string, attempt: number, outcome: AttemptOutcome): Promise<void> {
    const row = this.rows.get(id);
    if (!row || row.status !== 'queued' || row.attempts !== attempt) return;
    if (outcome.status === 'deferred')
      Object.assign(row, { nextAttemptAt: outcome.nextAttemptAt, attempts: row.attempts - 1 });
    else if (outcome.status === 'sent')
      Object.assign(row, { status: 'sent', sentAt: outcome.at, providerResponse: outcome.providerResponse });
    else if (outcome.status === 'queued')
      Object.assign(row, { nextAttemptAt: outcome.nextAttemptAt, lastError: outcome.error });
    else Object.assign(row, { status: 'failed', lastError: outcome.error });
  }
  async find(_query: NotificationQuery): Promise<Notification[]> {
    return [...this.rows.values()];
  }
  async findById(id: string): Promise<Notification | undefined> {
    return this.rows.get(id);
  }
}

function notification(id: string, now: Date, channel: Notification['channel'] = 'email'): Notification {
  return {
    id,
    eventId: id,
    eventType: 'order_paid',
    userId: 'u1',
    channel,
    recipient: 'a@example.com',
    template: 'order_paid',
    subject: 's',
    body: 'b',
    status: 'queued',
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
    updatedAt: now,
  };
}

function setup(
  provider: ChannelProvider,
  resolve: (n: Notification) => Promise<Resolution> = async () => ({ outcome: 'wait' }),
  concurrency = 1,
) {
  let now = new Date('2026-01-01T00:00:00Z');
  const store = new MemoryStore();
  const dispatcher = new Dispatcher({
    store,
    resolve,
    providers: { [provider.channel]: provider },
    clock: { now: () => now },
    logger: pino({ level: 'silent' }),
    maxAttempts: 3,
    baseBackoffMs: 1_000,
    maxBackoffMs: 10_000,
    leaseMs: 60_000,
    scanIntervalMs: 1_000,
    concurrency,
    sleep: async () => undefined,
  });
  return {
    store,
    dispatcher,
    now: () => now,
    advance: (ms: number) => {
      now = new Date(now.getTime() + ms);
    },
  };
}

/** The lease of `liveDispatcher`: short, since its tests wait for it on the real clock. */
const LIVE_LEASE_MS = 1_000;

/**
 * A dispatcher on the real clock, its timers live: for what happens between passes. Without a `send`
 * of its own, every mail is accepted and its id recorded in `sent`.
 */
function liveDispatcher(
  send?: ChannelProvider['send'],
  options: { resolve?: (n: Notification) => Promise<Resolution>; now?: () => Date } = {},
) {
  const store = new MemoryStore();
  const sent: string[] = [];
  send ??= async (n) => {
    sent.push(n.id);
    return { providerResponse: '250 OK' };
  };
  const dispatcher = new Dispatcher({
    store,
    resolve: options.resolve ?? (async () => ({ outcome: 'wait' })),
    providers: { email: { channel: 'email', send } },
    clock: { now: options.now ?? (() => new Date()) },
    logger: pino({ level: 'silent' }),
    maxAttempts: 5,
    baseBackoffMs: 5,
    maxBackoffMs: 20,
    leaseMs: LIVE_LEASE_MS,
    // An hour: no scan but the first comes during a test.
    scanIntervalMs: 3_600_000,
    concurrency: 2,
  });
  return { store, dispatcher, sent };
}

/** Runs `body` with `dispatcher` started, and stops it after, whatever `body` did. */
async function whileRunning(dispatcher: Dispatcher, body: () => Promise<void>): Promise<void> {
  dispatcher.start();
  try {
    await body();
  } finally {
    await dispatcher.stop();
  }
}

/** Polls `done` every 5 ms until it holds; throws after 5 s. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('deadline passed');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('Dispatcher', () => {
  it('backs off exponentially with a cap', () => {
    expect([1, 2, 3, 4, 10].map((a) => backoffMs(a, 1_000, 5_000))).toEqual([
      1_000, 2_000, 4_000, 5_000, 5_000,
    ]);
  });

  it('attempts up to `concurrency` notifications at once, each exactly once', async () => {
    let inFlight = 0;
    let most = 0;
    const sent: string[] = [];
    const t = setup(
      {
        channel: 'email',
        send: async (n) => {
          inFlight += 1;
          most = Math.max(most, inFlight);
          await new Promise((resolve) => setImmediate(resolve));
          inFlight -= 1;
          sent.push(n.id);
          return { providerResponse: '250 OK' };
        },
      },
      undefined,
      4,
    );
    for (let i = 0; i < 10; i++) await t.store.insertIfAbsent(notification(`n${i}`, t.now()));
    expect(await t.dispatcher.drain()).toBe(10);
    expect(most).toBe(4);
    expect(sent.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `n${i}`).sort());
    expect([...t.store.rows.values()].every((n) => n.status === 'sent')).toBe(true);
  });

  it('scans the queue at most once per scan interval while fresh notifications keep it busy', async () => {
    const sent: string[] = [];
    const t = setup({
      channel: 'email',
      send: async (n) => {
        sent.push(n.id);
        return { providerResponse: '250 OK' };
      },
    });
    const scans = jest.spyOn(t.store, 'dueIds');
    expect(await t.dispatcher.drain()).toBe(0);
    expect(scans).toHaveBeenCalledTimes(1);

    // Stored by another replica: only a scan finds it.
    await t.store.insertIfAbsent(notification('other', t.now()));
    await t.store.insertIfAbsent(notification('fresh1', t.now()));
    t.dispatcher.wake(['fresh1']);
    expect(await t.dispatcher.drain()).toBe(1);
    expect(scans).toHaveBeenCalledTimes(1);
    expect(sent).toEqual(['fresh1']);

    t.advance(1_000);
    await t.store.insertIfAbsent(notification('fresh2', t.now()));
    t.dispatcher.wake(['fresh2']);
    expect(await t.dispatcher.drain()).toBe(2);
    expect(scans).toHaveBeenCalledTimes(2);
    expect(sent).toEqual(['fresh1', 'fresh2', 'other']);
  });

  it('does not scan for a pass woken with nothing fresh before the interval, but drains a full batch at once', async () => {
    const sent: string[] = [];
    const t = setup(
      {
        channel: 'email',
        send: async (n) => {
          sent.push(n.id);
          return { providerResponse: '250 OK' };
        },
      },
      undefined,
      4,
    );
    const scans = jest.spyOn(t.store, 'dueIds');
    expect(await t.dispatcher.drain()).toBe(0);
    // What a busy pass leaves behind: one more pass, its mail already taken by the pass before.
    expect(await t.dispatcher.drain()).toBe(0);
    expect(scans).toHaveBeenCalledTimes(1);

    // 60 due from elsewhere: a scan's batch is 50, and a full batch means scanning again at once.
    for (let i = 0; i < 60; i += 1) await t.store.insertIfAbsent(notification(`other${i}`, t.now()));
    t.advance(1_000);
    expect(await t.dispatcher.drain()).toBe(60);
    expect(scans).toHaveBeenCalledTimes(3);
    expect(new Set(sent).size).toBe(60);
  });

  it('sends a notification stored leased to it without claiming it, and claims one past half its lease once that lease has ended', async () => {
    const sent: string[] = [];
    const t = setup({
      channel: 'email',
      send: async (n) => {
        sent.push(`${n.id}#${n.attempts}`);
        return { providerResponse: '250 OK' };
      },
    });
    const claims = jest.spyOn(t.store, 'claim');
    const leased = (id: string) => ({ ...notification(id, t.now()), ...t.dispatcher.firstLease(t.now()) });
    const fresh = leased('fresh');
    await t.store.insertIfAbsent(fresh);
    t.dispatcher.deliver([fresh]);
    expect(await t.dispatcher.drain()).toBe(1);
    expect(claims).not.toHaveBeenCalled();
    expect(t.store.rows.get('fresh')).toMatchObject({ status: 'sent', attempts: 1 });

    // Queued here for 40 s of a 60 s lease: a scan elsewhere may take it soon, so it is not attempted
    // on that lease, but claimed once the lease has ended (a timer of its own, in a started one).
    const late = leased('late');
    await t.store.insertIfAbsent(late);
    t.advance(40_000);
    t.dispatcher.deliver([late]);
    expect(await t.dispatcher.drain()).toBe(0);
    expect(claims).not.toHaveBeenCalled();
    expect(t.store.rows.get('late')).toMatchObject({ status: 'queued', attempts: 1 });
    t.advance(20_000);
    t.dispatcher.deliver([late]);
    expect(await t.dispatcher.drain()).toBe(1);
    expect(t.store.rows.get('late')).toMatchObject({ status: 'sent', attempts: 2 });
    expect(sent).toEqual(['fresh#1', 'late#2']);
  });

  it('retries a failing provider with backoff and records the provider answer once it succeeds', async () => {
    let calls = 0;
    const t = setup({
      channel: 'email',
      send: async () => {
        calls += 1;
        if (calls < 3) throw new Error(`smtp down (${calls})`);
        return { providerResponse: '250 OK' };
      },
    });
    await t.store.insertIfAbsent(notification('n1', t.now()));
    expect(await t.dispatcher.drain()).toBe(1);
    expect(t.store.rows.get('n1')).toMatchObject({
      status: 'queued',
      attempts: 1,
      lastError: 'smtp down (1)',
    });
    expect(t.store.rows.get('n1')!.nextAttemptAt.getTime() - t.now().getTime()).toBe(1_000);

    expect(await t.dispatcher.drain()).toBe(0); // not due yet
    t.advance(1_000);
    expect(await t.dispatcher.drain()).toBe(1);
    expect(t.store.rows.get('n1')!.nextAttemptAt.getTime() - t.now().getTime()).toBe(2_000);
    t.advance(2_000);
    await t.dispatcher.drain();
    expect(t.store.rows.get('n1')).toMatchObject({ status: 'sent', attempts: 3, providerResponse: '250 OK' });
    expect(calls).toBe(3);
  });

  it('wakes its own retries and deferrals on timers, without scanning the queue', async () => {
    let calls = 0;
    let known = false;
    const t = liveDispatcher(
      async () => {
        calls += 1;
        if (calls < 3) throw new Error(`smtp down (${calls})`);
        return { providerResponse: '250 OK' };
      },
      {
        resolve: async () =>
          known
            ? {
                outcome: 'resolved',
                fields: { userId: 'u1', recipient: 'a@example.com', subject: 's', body: 'b' },
              }
            : { outcome: 'wait' },
      },
    );
    const scans = jest.spyOn(t.store, 'dueIds');
    const waiting = { ...notification('n2', new Date()), awaitingContext: true };
    await t.store.insertIfAbsent(notification('n1', new Date()));
    await t.store.insertIfAbsent(waiting);
    await whileRunning(t.dispatcher, async () => {
      await until(() => t.store.rows.get('n1')?.status === 'sent');
      expect(calls).toBe(3);
      known = true;
      await until(() => t.store.rows.get('n2')?.status === 'sent');
      // The first pass scanned the queue once; every later pass came from a timer of its own.
      expect(scans).toHaveBeenCalledTimes(1);
    });
  });

  it('claims a retry only once it is due by its own clock, when its timer fires before that', async () => {
    // The clock falls 100 ms behind once the retry is scheduled: a timer that fires on time fires
    // early by this clock, as one Node started from a stale loop time does.
    let behindMs = 0;
    let calls = 0;
    const t = liveDispatcher(
      async () => {
        calls += 1;
        if (calls === 1) throw new Error('smtp down');
        return { providerResponse: '250 OK' };
      },
      { now: () => new Date(Date.now() - behindMs) },
    );
    const complete = t.store.complete.bind(t.store);
    t.store.complete = async (id, attempt, outcome) => {
      await complete(id, attempt, outcome);
      // Once the retry's timer is armed (right after this write).
      if (outcome.status === 'queued')
        setImmediate(() => {
          behindMs = 100;
        });
    };
    await t.store.insertIfAbsent(notification('n1', new Date()));
    await whileRunning(t.dispatcher, async () => {
      await until(() => t.store.rows.get('n1')?.status === 'sent');
      expect(t.store.rows.get('n1')).toMatchObject({ attempts: 2 });
    });
  });

  it('tries an attempt the store cut short again once its lease has ended, and goes on with the others', async () => {
    const t = liveDispatcher();
    const now = new Date();
    // Stored leased to this process for their first attempt, as the service does.
    const leased = ['n1', 'n2'].map((id) => ({
      ...notification(id, now),
      attempts: 1,
      nextAttemptAt: new Date(now.getTime() + LIVE_LEASE_MS),
    }));
    for (const n of leased) await t.store.insertIfAbsent(n);
    // The database refuses every write about n1 until the next claim of it, which only the retry
    // after the lease can make.
    const complete = t.store.complete.bind(t.store);
    const claim = t.store.claim.bind(t.store);
    const claims: string[] = [];
    t.store.complete = async (id, ...rest) => {
      if (id === 'n1' && !claims.includes('n1')) throw new Error('connection refused');
      return complete(id, ...rest);
    };
    t.store.claim = async (id, ...rest) => {
      claims.push(id);
      return claim(id, ...rest);
    };
    await whileRunning(t.dispatcher, async () => {
      t.dispatcher.deliver(leased);
      await until(() => t.store.rows.get('n2')?.status === 'sent');
      expect(t.store.rows.get('n1')).toMatchObject({ status: 'queued', attempts: 1 });
      // No scan comes (an hour apart): the dispatcher's own timer claims it after the lease.
      await until(() => t.store.rows.get('n1')?.status === 'sent');
      expect(t.store.rows.get('n1')).toMatchObject({ attempts: 2 });
      expect(Date.now()).toBeGreaterThanOrEqual(now.getTime() + LIVE_LEASE_MS);
      expect(claims).toEqual(['n1']);
      expect(t.sent.sort()).toEqual(['n1', 'n1', 'n2']);
    });
  });

  it('takes over a notification found already stored once its lease has ended', async () => {
    const t = liveDispatcher();
    const now = new Date();
    // Stored by a delivery that failed before handing it over: leased, and held by nobody.
    await t.store.insertIfAbsent({
      ...notification('n1', now),
      attempts: 1,
      nextAttemptAt: new Date(now.getTime() + LIVE_LEASE_MS),
    });
    await whileRunning(t.dispatcher, async () => {
      t.dispatcher.recheck(['n1']);
      await until(() => t.store.rows.get('n1')?.status === 'sent');
      expect(Date.now()).toBeGreaterThanOrEqual(now.getTime() + LIVE_LEASE_MS);
      expect(t.sent).toEqual(['n1']);
    });
  });

  it('scans again soon after a scan failed, not a scan interval later', async () => {
    const t = liveDispatcher();
    await t.store.insertIfAbsent(notification('n1', new Date()));
    const dueIds = t.store.dueIds.bind(t.store);
    let outage = 2;
    t.store.dueIds = async (...args) => {
      if (outage-- > 0) throw new Error('connection refused');
      return dueIds(...args);
    };
    await whileRunning(t.dispatcher, async () => {
      await until(() => t.store.rows.get('n1')?.status === 'sent');
      expect(outage).toBe(-1);
      expect(t.sent).toEqual(['n1']);
    });
  });

  it('does not send again when the store fails to record a delivery that happened', async () => {
    let sends = 0;
    const t = setup({
      channel: 'email',
      send: async () => {
        sends += 1;
        return { providerResponse: '250 OK' };
      },
    });
    await t.store.insertIfAbsent(notification('n1', t.now()));
    // The database goes away right after the mail left, for two writes.
    const complete = t.store.complete.bind(t.store);
    let outage = 2;
    t.store.complete = async (...args) => {
      if (outage-- > 0) throw new Error('connection refused');
      return complete(...args);
    };
    expect(await t.dispatcher.drain()).toBe(1);
    t.advance(60_000);
    expect(await t.dispatcher.drain()).toBe(0);
    expect(sends).toBe(1);
    expect(t.store.rows.get('n1')).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('leaves a delivery it cannot record to the lease, without marking it failed', async () => {
    const t = setup({ channel: 'email', send: async () => ({ providerResponse: '250 OK' }) });
    await t.store.insertIfAbsent(notification('n1', t.now()));
    t.store.complete = async () => {
      throw new Error('connection refused');
    };
    // Not counted as made, and the pass itself goes on.
    await expect(t.dispatcher.drain()).resolves.toBe(0);
    expect(t.store.rows.get('n1')).toMatchObject({ status: 'queued', attempts: 1 });
  });

  it('gives up after maxAttempts, and at once on a permanent error', async () => {
    const t = setup({
      channel: 'email',
      send: async (n) => {
        if (n.id === 'permanent') throw new PermanentDeliveryError('mailbox does not exist');
        throw new Error('timeout');
      },
    });
    await t.store.insertIfAbsent(notification('permanent', t.now()));
    await t.store.insertIfAbsent(notification('flaky', t.now()));
    for (let i = 0; i < 5; i += 1) {
      await t.dispatcher.drain();
      t.advance(60_000);
    }
    expect(t.store.rows.get('permanent')).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError: 'mailbox does not exist',
    });
    expect(t.store.rows.get('flaky')).toMatchObject({ status: 'failed', attempts: 3, lastError: 'timeout' });
  });

  it('fails a message for a channel without a provider', async () => {
    const t = setup({ channel: 'email', send: async () => ({ providerResponse: 'ok' }) });
    await t.store.insertIfAbsent(notification('sms', t.now(), 'sms'));
    await t.dispatcher.drain();
    expect(t.store.rows.get('sms')).toMatchObject({
      status: 'failed',
      lastError: 'no sms provider is configured',
    });
  });

  it('defers a notification awaiting its recipient without using up attempts, then sends it once resolved', async () => {
    let known = false;
    const sent: Notification[] = [];
    const t = setup(
      {
        channel: 'email',
        send: async (n) => {
          sent.push(n);
          return { providerResponse: '250 OK' };
        },
      },
      async () =>
        known
          ? {
              outcome: 'resolved',
              fields: { userId: 'u9', recipient: 'late@example.com', subject: 'S', body: 'B' },
            }
          : { outcome: 'wait' },
    );
    await t.store.insertIfAbsent({
      ...notification('late', t.now()),
      userId: '',
      recipient: '',
      awaitingContext: true,
    });
    for (let i = 0; i < 5; i += 1) {
      await t.dispatcher.drain();
      t.advance(1_000);
    }
    expect(t.store.rows.get('late')).toMatchObject({ status: 'queued', attempts: 0 });
    known = true;
    await t.dispatcher.drain();
    expect(t.store.rows.get('late')).toMatchObject({
      status: 'sent',
      attempts: 1,
      userId: 'u9',
      recipient: 'late@example.com',
      awaitingContext: false,
    });
    expect(sent.map((n) => n.recipient)).toEqual(['late@example.com']);
  });
});
