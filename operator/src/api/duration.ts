const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/** Seconds in a Go-style duration (`15m`, `1h30m`, `500ms`), as the CRD's duration fields take them. */
export function durationSeconds(duration: string): number {
  let total = 0;
  let matched = '';
  for (const [part, amount, unit] of duration.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(amount) * (UNIT_SECONDS[unit ?? ''] ?? Number.NaN);
    matched += part;
  }
  if (matched === '' || matched !== duration) throw new Error(`not a duration: ${duration}`);
  return total;
}
