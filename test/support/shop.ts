import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { appSpec } from '../../stack/src/services';
import { servicePorts, type ServiceId } from '../../stack/src/settings';
import { loadStackSettings } from '../../stack/src/stack';
import { killProcess, startProcess } from '../../stack/src/supervisor';
import { eventually } from '../../stack/test/support/eventually';

/**
 * A client of the running shop, as a customer or an admin would be: every call
 * goes through a Dapr sidecar (order's by default), never to an app directly.
 */

export interface Answer<T> {
  status: number;
  body: T;
}

const settings = loadStackSettings();

export async function call<T>(
  appId: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string>; via?: ServiceId } = {},
): Promise<Answer<T>> {
  const port = servicePorts(options.via ?? 'order').daprHttp;
  const response = await fetch(
    `http://127.0.0.1:${port}/v1.0/invoke/${appId}/method/${path.replace(/^\//, '')}`,
    {
      method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      signal: AbortSignal.timeout(30_000),
    },
  );
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? (JSON.parse(text) as unknown) : {};
  } catch {
    // not JSON: keep the text for the failure message
  }
  return { status: response.status, body: body as T };
}

function expectStatus<T>(answer: Answer<T>, status: number, what: string): T {
  if (answer.status !== status) {
    throw new Error(
      `${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body).slice(0, 400)}`,
    );
  }
  return answer.body;
}

let adminToken: Promise<string> | undefined;

/** The seeded admin's access token (logged in once per test file). */
export function admin(): Promise<string> {
  adminToken ??= call<{ accessToken: string }>('auth', 'POST', '/auth/login', {
    body: { email: settings.ADMIN_EMAIL, password: settings.ADMIN_PASSWORD },
  }).then((answer) => expectStatus(answer, 200, 'admin login').accessToken);
  return adminToken;
}

export interface Customer {
  userId: string;
  token: string;
}

/** A freshly registered customer with an access token. */
export async function newCustomer(): Promise<Customer> {
  const email = `saga-${randomUUID()}@example.com`;
  const password = `pw-${randomUUID()}`;
  const registered = await call<{ userId: string }>('auth', 'POST', '/auth/register', {
    body: { email, password, name: 'Saga Customer' },
  });
  const { userId } = expectStatus(registered, 201, 'register');
  const login = await call<{ accessToken: string }>('auth', 'POST', '/auth/login', {
    body: { email, password },
  });
  return { userId, token: expectStatus(login, 200, 'login').accessToken };
}

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

/** Starts a crashed participant again and waits until it is healthy. */
export async function recover(id: ServiceId): Promise<void> {
  await startProcess(appSpec(settings, id));
}

export { settings };
