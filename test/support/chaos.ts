import { randomUUID } from 'node:crypto';
import { eventually } from '../../stack/test/support/eventually';
import {
  getOrder,
  paymentsOf,
  placeOrder,
  sagaOf,
  type Customer,
  type OrderView,
  type PaymentView,
  type Product,
} from './shop';

/**
 * Load and checks shared by the chaos tests: the local stack's (processes killed) and the kind
 * cluster's (pods deleted). Orders arrive at a steady rate whatever the shop's state; afterwards
 * every order is checked against DESIGN.md §5.
 */

/** An order the shop accepted, with what it asked for. */
export interface Placed {
  customer: Customer;
  orderId: string;
  sku: string;
  quantity: number;
  declined: boolean;
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Places one order as a careful client does: one Idempotency-Key, retried on a 5xx or a dropped
 * connection until accepted. A 4xx is a bug here (the requests are valid) and fails the order.
 */
export async function placeRetrying(
  customer: Customer,
  product: Product,
  quantity: number,
  declined: boolean,
  retryForMs = 180_000,
): Promise<Placed> {
  const key = randomUUID();
  const deadline = Date.now() + retryForMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    let status = 0;
    try {
      const answer = await placeOrder(
        customer,
        [{ sku: product.sku, quantity }],
        declined ? 'tok_chargeDeclined' : 'tok_visa',
        key,
      );
      status = answer.status;
      if (status === 202 || status === 200) {
        return { customer, orderId: answer.body.orderId, sku: product.sku, quantity, declined };
      }
      last = `${status} ${JSON.stringify(answer.body).slice(0, 200)}`;
    } catch (error) {
      last = String(error);
    }
    if (status >= 400 && status < 500) throw new Error(`order refused: ${last}`);
    await pause(500);
  }
  throw new Error(`order with key ${key} not accepted within ${retryForMs} ms; last: ${last}`);
}

/** Reads an order until it is final, retrying through the moments a part of the shop is coming back. */
export function settledOrder(placed: Placed, timeoutMs: number): Promise<OrderView> {
  return eventually(
    () => getOrder(placed.customer, placed.orderId),
    (o) => o.status !== 'PENDING',
    { timeoutMs, intervalMs: 500, what: `order ${placed.orderId} final` },
  );
}

/** Runs `work` over `items` with at most `limit` at once. */
export async function inBatches<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T);
      }
    }),
  );
  return results;
}

/**
 * Steady open-loop load: a new order every 1/rate s, whatever the shop's state, cycling through the
 * customers and products; every tenth card is declined, so compensation runs under the faults too.
 */
export function steadyLoad(customers: Customer[], products: Product[], ratePerSecond: number) {
  const orders: Promise<Placed>[] = [];
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i++) {
      const customer = customers[i % customers.length] as Customer;
      const product = products[i % products.length] as Product;
      orders.push(placeRetrying(customer, product, 1 + (i % 3), i % 10 === 9));
      await pause(1000 / ratePerSecond);
    }
  })();
  return {
    /** Stops placing new orders; resolves with every accepted one. */
    stop: async () => {
      running = false;
      await done;
      return Promise.all(orders);
    },
  };
}

const succeeded = (payments: PaymentView[]) => payments.filter((p) => p.status === 'SUCCEEDED');
/** A charge that took money at some point: standing, or since refunded. */
const captured = (payments: PaymentView[]) =>
  payments.filter((p) => p.status === 'SUCCEEDED' || p.status === 'REFUNDED');

/** What every order is checked against after a chaos run; each list names the orders that broke it. */
export interface BrokenOrders {
  lost: string[];
  chargedTwice: string[];
  paidWithoutCharge: string[];
  cancelledKeepingMoney: string[];
  declinedPaid: string[];
}

export interface OrderVerdict {
  finals: OrderView[];
  paid: Placed[];
  broken: BrokenOrders;
}

/** Waits for every order to be final (or gives up on it), then checks its charges. */
export async function judgeOrders(all: Placed[], finalWithinMs: number): Promise<OrderVerdict> {
  const finals = await inBatches(all, 8, async (p) =>
    settledOrder(p, finalWithinMs).catch(() => getOrder(p.customer, p.orderId)),
  );
  const payments = await inBatches(all, 8, (p) => paymentsOf(p.orderId));
  const status = (i: number) => finals[i]?.status;
  const ids = (broken: (p: Placed, i: number) => boolean) =>
    all.filter((p, i) => broken(p, i)).map((p) => p.orderId);
  return {
    finals,
    paid: all.filter((_, i) => status(i) === 'PAID'),
    broken: {
      lost: ids((_, i) => status(i) === 'PENDING'),
      chargedTwice: ids((_, i) => captured(payments[i] ?? []).length > 1),
      paidWithoutCharge: ids((_, i) => status(i) === 'PAID' && succeeded(payments[i] ?? []).length !== 1),
      cancelledKeepingMoney: ids(
        (_, i) => status(i) === 'CANCELLED' && succeeded(payments[i] ?? []).length > 0,
      ),
      declinedPaid: ids((p, i) => p.declined && status(i) === 'PAID'),
    },
  };
}

/**
 * The orders whose saga did not finish once, as its order did: COMPLETED for a PAID order,
 * COMPENSATED for a CANCELLED one (a PENDING order's saga matches neither).
 */
export async function sagaMismatches(all: Placed[], finals: OrderView[]): Promise<string[]> {
  const sagas = await inBatches(all, 8, async (p) => (await sagaOf(p.orderId)).body);
  return all.flatMap((p, i) => {
    const expected = finals[i]?.status === 'PAID' ? 'COMPLETED' : 'COMPENSATED';
    const actual = sagas[i]?.status;
    return actual === expected ? [] : [`${p.orderId}: order ${finals[i]?.status}, saga ${actual}`];
  });
}

/** Fails naming every check that found something: each list must be empty. */
export function expectNothingBroken(checks: Record<string, unknown[]>): void {
  expect(checks).toEqual(Object.fromEntries(Object.keys(checks).map((name) => [name, []])));
}

/** Units of each SKU that PAID orders bought. */
export function soldBy(paid: Placed[], sku: string): number {
  return paid.filter((p) => p.sku === sku).reduce((sum, p) => sum + p.quantity, 0);
}
