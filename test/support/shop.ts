import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { appSpec } from '../../stack/src/services';
import type { ServiceId } from '../../stack/src/settings';
import { loadStackSettings } from '../../stack/src/stack';
import { freezeProcess, killProcess, startProcess } from '../../stack/src/supervisor';
import { eventually } from '../../stack/test/support/eventually';
import {
  call,
  expectStatus,
  loginAdmin,
  newCustomer,
  type Answer,
  type TestCustomer,
} from '../../stack/test/support/shop-client';

export { call, newCustomer, type Answer };

/**
 * A client of the running shop, as a customer or an admin would be: every call
 * goes through a Dapr sidecar (order's by default), never to an app directly.
 */

const settings = loadStackSettings();

let adminToken: Promise<{ token: string; renewAt: number }> | undefined;

/**
 * The seeded admin's access token: logged in once, and again a minute before that
 * token expires (a long file, like the kind suite, outlives the 15-minute token).
 */
export async function admin(): Promise<string> {
  const held = adminToken && (await adminToken.catch(() => undefined));
  if (held && Date.now() < held.renewAt) return held.token;
  const next = loginAdmin().then((tokens) => ({
    token: tokens.accessToken,
    renewAt: Date.now() + (tokens.expiresIn - 60) * 1000,
  }));
  adminToken = next;
  return (await next).token;
}

export type Customer = TestCustomer;

export interface Product {
  sku: string;
  price: number;
  currency: string;
  available: number;
}

/** A product of its own for one test, so tests never share stock. */
export async function newProduct(stock: number, price = 1_250): Promise<Product> {
  const sku = `saga-${randomUUID().slice(0, 13)}`;
  const created = await call<Product>('inventory', 'POST', '/products', {
    token: await admin(),
    body: { sku, name: `Saga test ${sku}`, price, currency: 'USD', stock },
  });
  return expectStatus(created, 201, 'create product');
}

export async function availableOf(sku: string): Promise<number> {
  return expectStatus(await call<Product>('inventory', 'GET', `/products/${sku}`), 200, 'get product')
    .available;
}

export interface OrderView {
  orderId: string;
  status: 'PENDING' | 'PAID' | 'CANCELLED';
  total: number;
  currency: string;
  cancellationReason?: string;
}

export function placeOrder(
  customer: Customer,
  items: { sku: string; quantity: number }[],
  paymentToken = 'tok_visa',
  idempotencyKey?: string,
): Promise<Answer<{ orderId: string; status: string }>> {
  return call('order', 'POST', '/orders', {
    token: customer.token,
    body: { items, paymentMethod: { token: paymentToken } },
    headers: idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
  });
}

/** Places an order that must be accepted; returns its id. */
export async function order(
  customer: Customer,
  items: { sku: string; quantity: number }[],
  paymentToken = 'tok_visa',
): Promise<string> {
  return expectStatus(await placeOrder(customer, items, paymentToken), 202, 'place order').orderId;
}

export async function getOrder(customer: Customer, orderId: string): Promise<OrderView> {
  return expectStatus(
    await call<OrderView>('order', 'GET', `/orders/${orderId}`, { token: customer.token }),
    200,
    'get order',
  );
}

/** Waits until the order is PAID or CANCELLED. */
export function finalOrder(customer: Customer, orderId: string, timeoutMs = 60_000): Promise<OrderView> {
  return eventually(
    () => getOrder(customer, orderId),
    (o) => o.status !== 'PENDING',
    { timeoutMs, intervalMs: 200, what: `order ${orderId} final` },
  );
}

export interface PaymentView {
  paymentId: string;
  status: 'SUCCEEDED' | 'DECLINED' | 'INSUFFICIENT_FUNDS' | 'PROVIDER_ERROR' | 'REFUNDED';
  amount: number;
  refund: { refundId: string; amount: number } | null;
}

export async function paymentsOf(orderId: string): Promise<PaymentView[]> {
  const answer = await call<{ items: PaymentView[] }>('payment', 'GET', `/payments?orderId=${orderId}`, {
    token: await admin(),
  });
  return expectStatus(answer, 200, 'list payments').items;
}

export interface ReservationView {
  status: 'RESERVED' | 'COMMITTED' | 'RELEASED' | 'FAILED' | 'VOID';
}

export async function reservationOf(orderId: string): Promise<ReservationView | undefined> {
  const answer = await call<ReservationView>('inventory', 'GET', `/reservations/${orderId}`, {
    token: await admin(),
  });
  if (answer.status === 404) return undefined;
  return expectStatus(answer, 200, 'get reservation');
}

export interface SagaView {
  orderId: string;
  status: 'RUNNING' | 'COMPENSATING' | 'COMPLETED' | 'COMPENSATED' | 'FAILED';
  reason: string | null;
  steps: {
    name: string;
    status: string;
    attempts: number;
    startedAt: string;
    endedAt: string | null;
    detail: Record<string, unknown>;
  }[];
}

export async function sagaOf(orderId: string, token?: string): Promise<Answer<SagaView>> {
  return call<SagaView>('saga', 'GET', `/sagas/${orderId}`, { token: token ?? (await admin()) });
}

/** Waits until the saga log shows `accept` (e.g. a step waiting on a participant that is down). */
export function sagaReaches(
  orderId: string,
  accept: (saga: SagaView) => boolean,
  what: string,
): Promise<SagaView> {
  return eventually(
    async () => {
      const answer = await sagaOf(orderId);
      if (answer.status !== 200) throw new Error(`GET /sagas/${orderId}: ${answer.status}`);
      return answer.body;
    },
    accept,
    { timeoutMs: 60_000, intervalMs: 200, what },
  );
}

export function step(saga: SagaView, name: string): SagaView['steps'][number] | undefined {
  return saga.steps.find((s) => s.name === name);
}

/** Stock counters read from inventory's database (the API shows `available` only). */
export async function stockCounters(
  sku: string,
): Promise<{ available: number; reserved: number; sold: number }> {
  const pool = new Pool({
    connectionString: `postgres://${settings.ECOM_PG_USER}@127.0.0.1:${settings.ECOM_PORT_POSTGRES}/inventory`,
    max: 1,
  });
  // The chaos test kills PostgreSQL while this runs: an idle connection it drops is emitted as
  // 'error' on the pool, and without a listener that would be an unhandled error. The query
  // itself rejects when it is the one that fails.
  pool.on('error', () => undefined);
  try {
    const result = await pool.query<{ available: number; reserved: number; sold: number }>(
      'SELECT available, reserved, sold FROM products WHERE sku = $1',
      [sku],
    );
    const row = result.rows[0];
    if (!row) throw new Error(`no product ${sku}`);
    return row;
  } finally {
    await pool.end();
  }
}

/** Crashes a process of the stack (SIGKILL): an app (its sidecar stays, calls to it fail) or a sidecar (`<id>-dapr`). */
export function crash(name: ServiceId | `${ServiceId}-dapr`): void {
  killProcess(name);
}

/** Makes a service hang (stopped, its sockets open) until `thaw`. */
export function freeze(id: ServiceId): void {
  freezeProcess(id, true);
}
export function thaw(id: ServiceId): void {
  freezeProcess(id, false);
}

/** Starts a crashed participant again and waits until it is healthy. */
export async function recover(id: ServiceId): Promise<void> {
  await startProcess(appSpec(settings, id));
}

export { settings };
