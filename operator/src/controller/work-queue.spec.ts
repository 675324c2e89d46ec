import { backoffDelay, WorkQueue } from './work-queue';

/** Resolves when `check` holds, polling each macrotask; fails after a deadline. */
async function until(check: () => boolean, deadlineMs = 5000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((r) => setImmediate(r));
  }
}

describe('backoffDelay', () => {
  it('doubles from the base up to the cap', () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});

describe('WorkQueue', () => {
  it('queues a key once however often it is added', async () => {
    const q = new WorkQueue();
    const seen: string[] = [];
    q.add('a');
    q.add('a');
    q.add('b');
    const running = q.run(
      (key) => {
        seen.push(key);
        return Promise.resolve({});
      },
      () => undefined,
      1,
    );
    await until(() => seen.length === 2);
    await q.drained();
    q.stop();
    await running;
    expect(seen).toEqual(['a', 'b']);
  });

  it('never runs one key on two workers, and reruns it when added meanwhile', async () => {
    const q = new WorkQueue();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release: (() => void) | undefined;
    const running = q.run(
      async () => {
        active += 1;
        runs += 1;
        maxActive = Math.max(maxActive, active);
        if (runs === 1) await new Promise<void>((r) => (release = r));
        active -= 1;
        return {};
      },
      () => undefined,
      3,
    );
    q.add('k');
    await until(() => release !== undefined);
    q.add('k');
    q.add('k');
    release?.();
    await until(() => runs === 2);
    await q.drained();
    q.stop();
    await running;
    expect(maxActive).toBe(1);
    expect(runs).toBe(2);
  });

  it('retries a failing key with growing backoff until it succeeds', async () => {
    const q = new WorkQueue({ baseMs: 1, maxMs: 8 });
    const delays: number[] = [];
    let attempts = 0;
    const running = q.run(
      () => {
        attempts += 1;
        return attempts < 4 ? Promise.reject(new Error(`fail ${attempts}`)) : Promise.resolve({});
      },
      (_key, _error, retryInMs) => delays.push(retryInMs),
    );
    q.add('k');
    await until(() => attempts === 4);
    await q.drained();
    expect(delays).toEqual([1, 2, 4]);
    expect(q.failuresOf('k')).toBe(0);
    q.stop();
    await running;
  });
});
