import type { WaitEnd } from './ports';
import { StatusWaiters } from './status-waiters';

describe('StatusWaiters', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  /** Records how a pending wait ends, so a test can look before and after timers move. */
  function track(wait: Promise<WaitEnd>): { end: WaitEnd | undefined } {
    const seen: { end: WaitEnd | undefined } = { end: undefined };
    void wait.then((end) => (seen.end = end));
    return seen;
  }

  it('wakes every wait on the order, and only those', async () => {
    const waiters = new StatusWaiters();
    const [a1, a2, b] = [waiters.watch('a'), waiters.watch('a'), waiters.watch('b')];
    const [s1, s2, sb] = [track(a1.next(10_000)), track(a2.next(10_000)), track(b.next(10_000))];
    waiters.wake('a');
    await jest.advanceTimersByTimeAsync(0);
    expect([s1.end, s2.end, sb.end]).toEqual(['changed', 'changed', undefined]);
    expect(waiters.size).toBe(1);
    b.close();
    expect(waiters.size).toBe(0);
  });

  it('keeps a wake that came between watching and waiting', async () => {
    const waiters = new StatusWaiters();
    const watch = waiters.watch('a');
    waiters.wake('a');
    await expect(watch.next(10_000)).resolves.toBe('changed');
  });

  it('times out after the wait, and leaves nothing registered', async () => {
    const waiters = new StatusWaiters();
    const seen = track(waiters.watch('a').next(2_000));
    await jest.advanceTimersByTimeAsync(1_999);
    expect(seen.end).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);
    expect(seen.end).toBe('timeout');
    expect(waiters.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('ends a wait whose client left, clearing its timer', async () => {
    const waiters = new StatusWaiters();
    const left = new AbortController();
    const seen = track(waiters.watch('a').next(30_000, left.signal));
    left.abort();
    await jest.advanceTimersByTimeAsync(0);
    expect(seen.end).toBe('aborted');
    expect(waiters.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    await expect(waiters.watch('a').next(30_000, left.signal)).resolves.toBe('aborted');
    expect(waiters.size).toBe(0);
  });

  it('wakes all on a lost connection; ends all, and every later wait, on close', async () => {
    const waiters = new StatusWaiters();
    const seen = [track(waiters.watch('a').next(30_000)), track(waiters.watch('b').next(30_000))];
    waiters.wakeAll();
    await jest.advanceTimersByTimeAsync(0);
    expect(seen.map((s) => s.end)).toEqual(['changed', 'changed']);

    const pending = track(waiters.watch('c').next(30_000));
    waiters.close();
    await jest.advanceTimersByTimeAsync(0);
    expect(pending.end).toBe('closing');
    await expect(waiters.watch('d').next(30_000)).resolves.toBe('closing');
    expect(waiters.size).toBe(0);
  });

  it('ends at the first of its ends only', async () => {
    const waiters = new StatusWaiters();
    const watch = waiters.watch('a');
    const seen = track(watch.next(1_000));
    waiters.wake('a');
    await jest.advanceTimersByTimeAsync(5_000);
    watch.close();
    expect(seen.end).toBe('changed');
  });
});
