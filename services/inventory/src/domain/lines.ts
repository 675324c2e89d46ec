import type { Line } from './model';

/**
 * Merges lines of the same sku and sorts them by sku. Every writer touches
 * product rows in this order, so two reservations can never deadlock.
 */
export function normaliseLines(lines: readonly Line[]): Line[] {
  const bySku = new Map<string, number>();
  for (const line of lines) bySku.set(line.sku, (bySku.get(line.sku) ?? 0) + line.quantity);
  return [...bySku.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([sku, quantity]) => ({ sku, quantity }));
}
