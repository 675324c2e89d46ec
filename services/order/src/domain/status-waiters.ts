import type { StatusWatch, WaitEnd } from './ports';

/** One registered wait: it remembers a wake that came before `next`, so none is lost in between. */
class Waiter implements StatusWatch {
  private ended: WaitEnd | undefined;
  private settle: ((end: WaitEnd) => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private signal: AbortSignal | undefined;
  private readonly onAbort = () => {
    this.end('aborted');
  };

  constructor(private readonly release: (waiter: Waiter) => void) {}

  next(ms: number, signal?: AbortSignal): Promise<WaitEnd> {
    if (this.ended !== undefined) return Promise.resolve(this.ended);
    if (signal?.aborted) return Promise.resolve(this.end('aborted'));
    return new Promise<WaitEnd>((resolve) => {
      this.settle = resolve;
      this.timer = setTimeout(() => this.end('timeout'), ms);
      this.signal = signal;
      signal?.addEventListener('abort', this.onAbort, { once: true });
    });
  }

  close(): void {
    this.end('aborted');
  }

  /** Ends the wait (the first end wins) and takes the waiter out of the registry. */
  end(how: WaitEnd): WaitEnd {
    if (this.ended !== undefined) return this.ended;
    this.ended = how;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.release(this);
    this.settle?.(how);
    return how;
  }
}

/**
 * The waits of this replica, by order id. Held in memory only as the list of who to wake: what
 * wakes them comes from outside (every replica's announcements), and a woken wait reads the order
 * again rather than trusting the wake.
 */
export class StatusWaiters {
  private readonly byOrder = new Map<string, Set<Waiter>>();
  private closing = false;

  watch(orderId: string): StatusWatch {
    const waiter = new Waiter((w) => {
      const set = this.byOrder.get(orderId);
      set?.delete(w);
      if (set?.size === 0) this.byOrder.delete(orderId);
    });
    if (this.closing) {
      waiter.end('closing');
      return waiter;
    }
    const set = this.byOrder.get(orderId) ?? new Set<Waiter>();
    set.add(waiter);
    this.byOrder.set(orderId, set);
    return waiter;
  }

  /** Wakes every wait on the order. */
  wake(orderId: string): void {
    for (const waiter of [...(this.byOrder.get(orderId) ?? [])]) waiter.end('changed');
  }

  /** Wakes every wait: announcements may have been missed (the listening connection was lost). */
  wakeAll(): void {
    for (const orderId of [...this.byOrder.keys()]) this.wake(orderId);
  }

  /** Ends every wait now and any later one at once: the service is shutting down. */
  close(): void {
    this.closing = true;
    for (const set of [...this.byOrder.values()]) for (const waiter of [...set]) waiter.end('closing');
  }

  /** How many waits are registered. */
  get size(): number {
    let n = 0;
    for (const set of this.byOrder.values()) n += set.size;
    return n;
  }
}
