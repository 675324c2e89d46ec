import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@ecom/shared';
import {
  PermanentDeliveryError,
  type Channel,
  type DeliveryReceipt,
  type Notification,
} from './notification';
import type { Resolution } from './notification-service';
import type { ChannelProvider, Clock, NotificationStore } from './ports';

export interface DispatcherOptions {
  store: NotificationStore;
  providers: Partial<Record<Channel, ChannelProvider>>;
  /** Completes a notification stored before its user or order was known. */
  resolve: (notification: Notification) => Promise<Resolution>;
  clock: Clock;
  logger: Logger;
  maxAttempts: number;
  /** First retry delay; doubled per attempt, capped at maxBackoffMs. */
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** How long an attempt may take before another dispatcher may retry it (a crashed attempt). */
  leaseMs: number;
  /**
   * How often the whole queue is scanned for due notifications. Everything this process holds wakes
   * on a timer of its own: its retries and deferrals, an attempt cut short by a failed write (at its
   * lease's end), a notification a redelivered event found already stored (`recheck`). So the scan
   * only finds what no live process knows of: what was queued before a restart (a pass scans at
   * start) and the work of a replica that died for good. On the MongoDB-protocol server here a scan
   * reads the whole collection (it cannot use an index on status), so it is rare.
   */
  scanIntervalMs: number;
  /**
   * How many notifications are attempted at once. Each attempt waits on the store and the provider
   * in turn, so one at a time drained about 5 mails/s here, less than the 11 mails/s that 3.8
   * orders/s bring (three per order).
   */
  concurrency: number;
  /** Waits between retries of a write (timers/promises' setTimeout unless a test passes its own). */
  sleep?: (ms: number) => Promise<unknown>;
}

/** How many due notifications one scan picks up. */
const BATCH = 50;

/** One notification to attempt. */
interface Attempt {
  id: string;
  run: () => Promise<boolean>;
}

/** Exponential backoff: base · 2^(attempt-1), capped. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/**
 * Delivers queued notifications, one claim at a time, retrying failures with
 * exponential backoff until `maxAttempts`, then marking them failed. Several
 * replicas can run it: a claim is a lease.
 */
export class Dispatcher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  /** Set by stop(): a write still being retried gives up and leaves the rest to the lease. */
  private shuttingDown = false;
  private wakeRequested = false;
  /**
   * Notifications this process just stored already leased to itself (`leased`): attempted first, with
   * no claim, one write fewer per mail. Then ids to claim before attempting (its retries and deferrals).
   */
  private readonly leased = new Map<string, Notification>();
  private readonly fresh = new Set<string>();
  /** When the queue was last scanned for due notifications. */
  private lastScanAt: Date | undefined;
  /** The retries and deferrals this process scheduled: each wakes a pass for its notification. */
  private readonly retries = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: DispatcherOptions) {}

  start(): void {
    this.stopped = false;
    this.shuttingDown = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.shuttingDown = true;
    clearTimeout(this.timer);
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
    await this.running;
  }

  /** What a notification stored for this process's first attempt carries: that attempt, and its lease. */
  firstLease(now: Date): Pick<Notification, 'attempts' | 'nextAttemptAt'> {
    return { attempts: 1, nextAttemptAt: new Date(now.getTime() + this.options.leaseMs) };
  }

  /**
   * Hands over notifications stored with `firstLease`: the next pass attempts them first, without
   * claiming them.
   */
  deliver(leased: Notification[]): void {
    leased.forEach((n) => this.leased.set(n.id, n));
    this.requestPass();
  }

  /**
   * Takes over notifications found already stored (a redelivered event): each is claimed once a lease
   * set now would have ended. One whose first attempt is still running elsewhere is then done or due
   * again; one whose holder failed before attempting it is due.
   */
  recheck(ids: string[]): void {
    const at = new Date(this.options.clock.now().getTime() + this.options.leaseMs);
    for (const id of ids) this.retryAt(id, at);
  }

  /** Asks for a pass now, claiming and attempting the given notifications first. */
  wake(ids: string[] = []): void {
    ids.forEach((id) => this.fresh.add(id));
    this.requestPass();
  }

  private requestPass(): void {
    if (this.stopped) return;
    if (this.running) this.wakeRequested = true;
    else this.schedule(0);
  }

  private nothingPending(): boolean {
    return this.leased.size === 0 && this.fresh.size === 0;
  }

  /**
   * Delivers the notifications just stored, and everything due when the queue is scanned; resolves
   * with how many attempts were made. The queue is scanned at most once per scan interval, and again
   * at once while a scan keeps finding a full batch.
   */
  async drain(): Promise<number> {
    let attempts = 0;
    // A full batch from the last scan: more may be due, so the next round scans again at once.
    let backlog = false;
    for (;;) {
      const fresh: Attempt[] = [
        ...[...this.leased.values()].map((n) => ({ id: n.id, run: () => this.attemptLeased(n) })),
        ...[...this.fresh].map((id) => this.claimed(id)),
      ];
      this.leased.clear();
      this.fresh.clear();
      attempts += await this.attemptAll(fresh);
      const now = this.options.clock.now();
      const scanned = this.lastScanAt;
      // Whatever woke this pass (fresh mail, a retry's timer, one more wake after a busy pass), the
      // queue is scanned only when the interval has passed: each scan reads the whole collection.
      if (!backlog && scanned && now.getTime() - scanned.getTime() < this.options.scanIntervalMs) {
        if (this.nothingPending()) return attempts;
        continue;
      }
      // A scan that failed is owed: the pass after it (soon, see schedule) scans again.
      const due = await this.options.store.dueIds(now, BATCH);
      this.lastScanAt = now;
      attempts += await this.attemptAll(due.map((id) => this.claimed(id)));
      // A short scan means the backlog is done; deferred ones come back at the next scan.
      backlog = due.length >= BATCH;
      if (!backlog && this.nothingPending()) return attempts;
    }
  }

  /** The attempt of a notification that must be claimed first (a retry, a wake, a scan). */
  private claimed(id: string): Attempt {
    return { id, run: () => this.claimAndAttempt(id) };
  }

  /**
   * Runs `attempts`, at most `concurrency` at once; resolves with how many were made. One cut short by
   * an error (the store away: a claim, a read or an outcome not written) takes no other down with it:
   * its notification may still be leased, so it is tried again once that lease has surely ended (a
   * lease taken now would end then, and every lease this attempt held began earlier).
   */
  private async attemptAll(attempts: Attempt[]): Promise<number> {
    let next = 0;
    let made = 0;
    const lane = async () => {
      for (let attempt = attempts[next++]; attempt !== undefined; attempt = attempts[next++]) {
        try {
          if (await attempt.run()) made += 1;
        } catch (error) {
          const leaseEnd = new Date(this.options.clock.now().getTime() + this.options.leaseMs);
          this.retryAt(attempt.id, leaseEnd);
          this.options.logger.warn(
            { notificationId: attempt.id, err: error, retryAt: leaseEnd.toISOString() },
            'notification attempt cut short; will retry after its lease',
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency, attempts.length) }, lane));
    return made;
  }

  /**
   * A notification stored already leased to this process. Past half its lease (a long queue here), it
   * is no longer attempted on that lease: by the lease's end a scan elsewhere may take it, and only a
   * claim keeps two attempts from both sending. So it is claimed like any other, once the lease has
   * ended; until then a timer here keeps it.
   */
  private async attemptLeased(leased: Notification): Promise<boolean> {
    const now = this.options.clock.now();
    const left = leased.nextAttemptAt.getTime() - now.getTime();
    if (left >= this.options.leaseMs / 2) return this.attempt(leased, now);
    if (left <= 0) return this.claimAndAttempt(leased.id);
    this.retryAt(leased.id, leased.nextAttemptAt);
    return false;
  }

  /** Claims a due notification, then attempts it; false when it was not due (someone else has it). */
  private async claimAndAttempt(id: string): Promise<boolean> {
    const now = this.options.clock.now();
    const claimed = await this.options.store.claim(id, now, this.options.leaseMs);
    if (!claimed) return false;
    return this.attempt(claimed, now);
  }

  /** One delivery attempt of a notification this process holds the lease of. */
  private async attempt(claimed: Notification, now: Date): Promise<boolean> {
    const ready = await this.prepare(claimed, now);
    if (!ready) return true;
    const provider = this.options.providers[claimed.channel];
    let receipt: DeliveryReceipt;
    try {
      if (!provider) throw new PermanentDeliveryError(`no ${claimed.channel} provider is configured`);
      receipt = await provider.send(ready);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const giveUp = error instanceof PermanentDeliveryError || claimed.attempts >= this.options.maxAttempts;
      const at = this.options.clock.now();
      const nextAttemptAt = new Date(
        at.getTime() + backoffMs(claimed.attempts, this.options.baseBackoffMs, this.options.maxBackoffMs),
      );
      await this.options.store.complete(
        claimed.id,
        claimed.attempts,
        giveUp
          ? { status: 'failed', at, error: message }
          : { status: 'queued', error: message, nextAttemptAt },
      );
      if (!giveUp) this.retryAt(claimed.id, nextAttemptAt);
      this.options.logger.warn(
        {
          notificationId: claimed.id,
          channel: claimed.channel,
          attempt: claimed.attempts,
          err: error,
          giveUp,
        },
        giveUp ? 'notification failed for good' : 'notification attempt failed; will retry',
      );
      return true;
    }
    await this.recordSent(claimed, receipt);
    this.options.logger.info(
      { notificationId: claimed.id, channel: claimed.channel, attempt: claimed.attempts },
      'notification sent',
    );
    return true;
  }

  /**
   * Records a delivery that happened. The message is out, so a failed write (the database away for a
   * moment) must not count as a failed send: that would send it again once the lease ends. The write
   * is retried until the lease ends; only past it may another attempt (of this or another replica)
   * send again, and then with the same Message-ID.
   */
  private async recordSent(claimed: Notification, receipt: DeliveryReceipt): Promise<void> {
    let waited = 0;
    for (let retry = 1; ; retry++) {
      try {
        await this.options.store.complete(claimed.id, claimed.attempts, {
          status: 'sent',
          at: this.options.clock.now(),
          providerResponse: receipt.providerResponse,
        });
        return;
      } catch (error) {
        const wait = backoffMs(retry, this.options.baseBackoffMs, this.options.maxBackoffMs);
        if (this.shuttingDown || waited + wait >= this.options.leaseMs) throw error;
        this.options.logger.warn(
          { notificationId: claimed.id, err: error, retry },
          'notification sent but not recorded yet; retrying the write',
        );
        await (this.options.sleep ?? sleep)(wait);
        waited += wait;
      }
    }
  }

  /** Resolves a deferred notification; undefined when it must wait longer or has failed (already recorded). */
  private async prepare(claimed: Notification, now: Date): Promise<Notification | undefined> {
    if (!claimed.awaitingContext) return claimed;
    const resolution = await this.options.resolve(claimed);
    switch (resolution.outcome) {
      case 'wait': {
        const nextAttemptAt = new Date(now.getTime() + this.options.baseBackoffMs);
        await this.options.store.complete(claimed.id, claimed.attempts, {
          status: 'deferred',
          nextAttemptAt,
        });
        this.retryAt(claimed.id, nextAttemptAt);
        return undefined;
      }
      case 'failed':
        await this.options.store.complete(claimed.id, claimed.attempts, {
          status: 'failed',
          at: now,
          error: resolution.error.message,
        });
        this.options.logger.warn(
          { notificationId: claimed.id, err: resolution.error },
          'notification cannot be addressed',
        );
        return undefined;
      case 'resolved':
        await this.options.store.resolve(claimed.id, claimed.attempts, resolution.fields);
        return { ...claimed, ...resolution.fields, awaitingContext: false };
    }
  }

  /** Wakes a pass for `id` when it is due again (unless stopped: then the next start's scan finds it). */
  private retryAt(id: string, at: Date): void {
    if (this.stopped) return;
    clearTimeout(this.retries.get(id));
    const arm = (): void => {
      const timer = setTimeout(
        () => {
          // Node starts a timer from the event loop's cached time, so it can fire a little before `at`
          // by this clock, and a claim before then fails: the rest is waited out first.
          if (this.options.clock.now().getTime() < at.getTime()) {
            arm();
            return;
          }
          this.retries.delete(id);
          this.wake([id]);
        },
        Math.max(0, at.getTime() - this.options.clock.now().getTime()),
      );
      timer.unref();
      this.retries.set(id, timer);
    };
    arm();
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      let failed = false;
      this.running = this.drain()
        .then(() => undefined)
        .catch((error: unknown) => {
          // Only the scan fails a pass (each attempt handles its own errors): try it again soon.
          failed = true;
          this.options.logger.warn({ err: error }, 'dispatch pass failed; will retry');
        })
        .finally(() => {
          this.running = undefined;
          const again = this.wakeRequested;
          this.wakeRequested = false;
          if (this.stopped) return;
          if (failed) this.schedule(this.options.baseBackoffMs);
          else this.schedule(again ? 0 : this.options.scanIntervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}
