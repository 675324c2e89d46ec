import type { ChargeOutcome, ReserveOutcome } from './participants';
import type { OrderLine } from './saga';

/**
 * Defence in depth: the saga never takes a participant's "yes" on trust. A
 * command is idempotent by order id, so whoever sent the first command for an
 * order fixed its recorded outcome; these checks make sure that outcome is the
 * one this order needs. Each answers why it does not match, or undefined.
 */

/** A successful charge must be for the order's total, in the order's currency. */
export function chargeMismatch(
  expected: { amount: number; currency: string },
  outcome: ChargeOutcome,
): string | undefined {
  if (outcome.outcome !== 'succeeded') return undefined;
  if (outcome.amount === undefined || outcome.currency === undefined) {
    return 'the charge does not say what it charged';
  }
  if (outcome.amount !== expected.amount || outcome.currency !== expected.currency) {
    return `charged ${outcome.amount} ${outcome.currency}, the order is ${expected.amount} ${expected.currency}`;
  }
  return undefined;
}

/** A charge the saga can go on with: succeeded, and for exactly the order's total in its currency. */
export function chargeStands(
  expected: { amount: number; currency: string },
  outcome: ChargeOutcome,
): boolean {
  return outcome.outcome === 'succeeded' && chargeMismatch(expected, outcome) === undefined;
}

type Line = Pick<OrderLine, 'sku' | 'quantity'>;

/** Quantities by sku, in sku order, so that line order and split lines do not matter. */
function canonical(lines: readonly Line[]): string {
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of lines) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  return [...bySku.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([sku, quantity]) => `${quantity} × ${sku}`)
    .join(', ');
}

/**
 * A reservation must hold exactly the order's lines. Inventory names the lines
 * it holds in `items` (the recorded ones on a repeat); a "reserved" that does
 * not say what it holds is not taken on trust, like a charge without its amount.
 */
export function reservationMismatch(expected: readonly Line[], outcome: ReserveOutcome): string | undefined {
  if (outcome.outcome !== 'reserved') return undefined;
  if (outcome.items === undefined) return 'the reservation does not say which lines it holds';
  const held = canonical(outcome.items);
  const wanted = canonical(expected);
  return held === wanted ? undefined : `reserved ${held || 'nothing'}, the order is ${wanted}`;
}

/** A reservation the saga can go on with: reserved, and holding exactly the order's lines. */
export function reservationHolds(expected: readonly Line[], outcome: ReserveOutcome): boolean {
  return outcome.outcome === 'reserved' && reservationMismatch(expected, outcome) === undefined;
}
