/** Outcome of one reconcile of a key. */
export interface ReconcileResult {
  /** Reconcile again after this long even if nothing changes (level-triggered resync). */
  requeueAfterMs?: number;
}

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 5 * 60_000 };

/** The delay before retry number `failures` (1-based): base·2^(failures-1), capped. */
export function backoffDelay(failures: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, failures - 1));
}

type Timer = ReturnType<typeof setTimeout>;

/**
 * A work queue of keys with client-go's guarantees: a key is queued at most
 * once however often it is added, never processed by two workers at once (an
 * add during processing queues it again afterwards), and a failing key is
 * retried with exponential backoff until it succeeds.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, Timer>();
  private readonly idle: (() => void)[] = [];
  private wake: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.wake?.();
  }

  /** Adds the key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    if (this.timers.has(key)) return;
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
  }

  get length(): number {
    return this.queue.length;
  }

  /** Failures in a row of a key (0 once it succeeded). */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /**
   * Runs `workers` loops calling `reconcile` for each key until stop(). Errors
   * are reported through `onError` and retried with backoff; they never stop a worker.
   */
  async run(
    reconcile: (key: string) => Promise<ReconcileResult>,
    onError: (key: string, error: unknown, retryInMs: number) => void,
    workers = 2,
  ): Promise<void> {
    await Promise.all(Array.from({ length: workers }, () => this.worker(reconcile, onError)));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.wake?.();
  }

  /** Resolves once nothing is queued or being processed (timers aside). */
  async drained(): Promise<void> {
    if (this.queue.length === 0 && this.processing.size === 0) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private async next(): Promise<string | undefined> {
    while (!this.stopped) {
      const key = this.queue.shift();
      if (key !== undefined) {
        this.queued.delete(key);
        return key;
      }
      await new Promise<void>((resolve) => {
        const previous = this.wake;
        this.wake = () => {
          this.wake = undefined;
          previous?.();
          resolve();
        };
      });
    }
    return undefined;
  }

  private async worker(
    reconcile: (key: string) => Promise<ReconcileResult>,
    onError: (key: string, error: unknown, retryInMs: number) => void,
  ): Promise<void> {
    for (;;) {
      const key = await this.next();
      if (key === undefined) return;
      this.processing.add(key);
      try {
        const result = await reconcile(key);
        this.failures.delete(key);
        if (result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        const failures = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, failures);
        const delay = backoffDelay(failures, this.policy);
        onError(key, error, delay);
        const pending = this.timers.get(key);
        if (pending) {
          clearTimeout(pending);
          this.timers.delete(key);
        }
        this.addAfter(key, delay);
      } finally {
        this.processing.delete(key);
        if (this.dirty.delete(key)) this.add(key);
        if (this.queue.length === 0 && this.processing.size === 0)
          for (const resolve of this.idle.splice(0)) resolve();
      }
    }
  }
}
