/**
 * Polls `probe` until it returns a value that passes `accept`, or fails after
 * the deadline with the last value seen. Tests wait with this, never with sleep.
 */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  {
    timeoutMs = 30_000,
    intervalMs = 100,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (accept(last)) return last;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const seen = last === undefined ? String(lastError) : JSON.stringify(last).slice(0, 500);
  throw new Error(`${what} not reached within ${timeoutMs} ms; last seen: ${seen}`);
}

/**
 * Checks `probe` keeps passing `accept` for the whole window (for "nothing
 * happens" assertions); fails at the first value that does not.
 */
export async function consistently<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  {
    durationMs,
    intervalMs = 200,
    what = 'condition',
  }: { durationMs: number; intervalMs?: number; what?: string },
): Promise<void> {
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    const value = await probe();
    if (!accept(value)) throw new Error(`${what} broken: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Waits until `probe` lists `count` items, then watches for `quietMs` that no further one arrives
 * (for "exactly once" assertions on deliveries that may come late or twice); returns the list.
 */
export async function exactly<T>(
  probe: () => Promise<T[]>,
  count: number,
  { timeoutMs = 60_000, quietMs, what = 'items' }: { timeoutMs?: number; quietMs: number; what?: string },
): Promise<T[]> {
  await eventually(probe, (items) => items.length >= count, { timeoutMs, what: `${count} ${what}` });
  await consistently(probe, (items) => items.length === count, {
    durationMs: quietMs,
    what: `no more ${what}`,
  });
  return probe();
}
