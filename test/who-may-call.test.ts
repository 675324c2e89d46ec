import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { buildEvent, DAPR_API_TOKEN_HEADER } from '@ecom/shared';
import { sidecarTokens } from '../stack/src/services';
import { servicePorts, type ServiceId } from '../stack/src/settings';
import { consistently } from '../stack/test/support/eventually';
import {
  call,
  finalOrder,
  getOrder,
  newCustomer,
  newProduct,
  order,
  paymentsOf,
  settings,
  stockCounters,
  type Customer,
} from './support/shop';

/** A request straight to a service's sidecar, as any process on the machine could send it. */
async function toSidecar(
  sidecarOf: ServiceId,
  method: string,
  path: string,
  options: { token?: ServiceId; body?: unknown; headers?: Record<string, string> } = {},
): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${servicePorts(sidecarOf).daprHttp}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { [DAPR_API_TOKEN_HEADER]: sidecarTokens(options.token).DAPR_API_TOKEN } : {}),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  await response.arrayBuffer();
  return response.status;
}

/** The security review's attacks (issue 9), each replayed against the running stack. */
describe('who may call what: internal routes answer their intended caller only', () => {
  let customer: Customer;
  let victim: Customer;

  beforeAll(async () => {
    [customer, victim] = await Promise.all([newCustomer(), newCustomer()]);
  });

  it("refuses every service sidecar's API without that service's Dapr API token", async () => {
    const orderId = randomUUID();
    const attacks: [ServiceId, string, string, unknown?][] = [
      ['saga', 'POST', `/v1.0/invoke/order/method/internal/orders/${orderId}/paid`],
      [
        'saga',
        'POST',
        '/v1.0/invoke/payment/method/internal/charges',
        { orderId, amount: 1, currency: 'USD' },
      ],
      ['saga', 'POST', '/v1.0/invoke/payment/method/internal/refunds', { orderId }],
      ['saga', 'POST', '/v1.0/invoke/inventory/method/internal/reservations', { orderId, items: [] }],
      ['order', 'POST', '/v1.0/publish/pubsub/order_created', { orderId }],
      ['order', 'POST', `/v1.0/invoke/saga/method/internal/sagas/${orderId}/cancel`, {}],
      ['saga', 'GET', `/v1.0-beta1/workflows/dapr/${orderId}`],
      ['saga', 'POST', `/v1.0-beta1/workflows/dapr/${orderId}/terminate`],
      ['saga', 'POST', `/v1.0-beta1/workflows/dapr/${orderId}/raiseEvent/cancel`, {}],
      ['order', 'GET', '/v1.0/metadata'],
      ['edge', 'GET', '/v1.0/metadata'],
    ];
    for (const [sidecar, method, path, body] of attacks) {
      expect({ sidecar, path, status: await toSidecar(sidecar, method, path, { body }) }).toEqual({
        sidecar,
        path,
        status: 401,
      });
      // Another app's token is no better.
      const other: ServiceId = sidecar === 'auth' ? 'user' : 'auth';
      expect(await toSidecar(sidecar, method, path, { body, token: other })).toBe(401);
    }
  });

  it('refuses a call to an app port that its sidecar did not deliver, whatever Dapr headers it carries', async () => {
    const response = await fetch(
      `http://127.0.0.1:${servicePorts('order').app}/internal/orders/${randomUUID()}/paid`,
      { method: 'POST', headers: { 'dapr-caller-app-id': 'saga', 'dapr-callee-app-id': 'order' } },
    );
    expect(response.status).toBe(401);
  });

  it('answers internal routes 404 at the edge, and leaves the order as it was', async () => {
    const product = await newProduct(3, 2_000);
    const orderId = await order(customer, [{ sku: product.sku, quantity: 1 }]);
    for (const [app, path, body] of [
      ['order', `internal/orders/${orderId}/paid`, undefined],
      ['payment', 'internal/charges', { orderId, amount: 1, currency: 'USD', paymentToken: 'tok_visa' }],
      ['payment', 'internal/refunds', { orderId }],
      ['inventory', 'internal/reservations', { orderId, items: [{ sku: product.sku, quantity: 3 }] }],
      ['saga', `internal/sagas/${orderId}/cancel`, {}],
    ] as const) {
      expect((await call(app, 'POST', path, { body, token: victim.token })).status).toBe(404);
    }
    const paid = await finalOrder(customer, orderId);
    expect(paid).toMatchObject({ status: 'PAID', total: 2_000 });
    const payments = await paymentsOf(orderId);
    expect(payments.map((p) => p.amount)).toEqual([2_000]);
  });

  it("refuses, as a 400 at the edge, paths that would climb to the edge sidecar's own API or that daprd cannot carry", async () => {
    const { ECOM_PORT_EDGE } = settings;
    /** The path exactly as written (`fetch` would resolve `..` and read `\\` as `/` before sending). */
    const raw = (method: string, path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: ECOM_PORT_EDGE, method, path, headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
          });
        });
        req.on('error', reject);
        req.end();
      });
    const climbs = '/v1.0/invoke/order/method/orders/x' + '\\..'.repeat(5);
    const metadata = await raw('GET', `${climbs}\\metadata`);
    expect(metadata.status).toBe(400);
    expect(metadata.body).not.toContain('"components"');
    expect((await raw('POST', `${climbs}\\shutdown`)).status).toBe(400);
    for (const path of ['/v1.0/invoke/user/method/users/%0A', '/v1.0/invoke/user/method/users/%25zz']) {
      expect(JSON.parse((await raw('GET', path)).body)).toMatchObject({
        status: 400,
        errors: [{ field: 'path' }],
      });
    }
    const latin1 = await raw('POST', '/v1.0/invoke/order/method/orders', {
      authorization: `Bearer ${victim.token}`,
      'idempotency-key': 'caf\u00e9',
    });
    expect(JSON.parse(latin1.body)).toMatchObject({ status: 400, errors: [{ field: 'idempotency-key' }] });
    // The edge's sidecar is still up and serving.
    expect((await call('order', 'GET', 'healthz')).status).toBe(200);
  });

  it("refuses a service's call to a route that is not its own, by its mTLS identity (access control)", async () => {
    const orderId = randomUUID();
    // payment holds its own token, but only saga may mark an order paid; the edge may not either.
    for (const caller of ['payment', 'edge', 'inventory'] as const) {
      const status = await toSidecar(
        caller,
        'POST',
        `/v1.0/invoke/order/method/internal/orders/${orderId}/paid`,
        {
          token: caller,
        },
      );
      expect({ caller, status }).toEqual({ caller, status: 403 });
    }
    // order may ask saga to cancel; saga may not ask order for a quote of inventory's on its behalf.
    expect(
      await toSidecar('payment', 'POST', `/v1.0/invoke/saga/method/internal/sagas/${orderId}/cancel`, {
        token: 'payment',
        body: {},
      }),
    ).toBe(403);
    expect(await toSidecar('saga', 'GET', '/v1.0/invoke/order/method/orders', { token: 'saga' })).toBe(403);
  });

  it('lets only the owner publish an event: a forged order_created from another service is refused and starts nothing', async () => {
    const product = await newProduct(2, 900);
    const orderId = randomUUID();
    const forged = buildEvent('order_created', {
      orderId,
      customerId: victim.userId,
      items: [{ sku: product.sku, quantity: 2, unitPrice: 0 }],
      total: 0,
      currency: 'USD',
      paymentToken: 'tok_visa',
      deadline: new Date(Date.now() + 60_000).toISOString(),
    });
    for (const publisher of ['saga', 'payment', 'edge'] as const) {
      const status = await toSidecar(publisher, 'POST', '/v1.0/publish/pubsub/order_created', {
        token: publisher,
        body: forged,
      });
      expect({ publisher, status }).toEqual({ publisher, status: 403 });
    }
    await consistently(
      () => stockCounters(product.sku),
      (counters) => counters.available === 2 && counters.reserved === 0 && counters.sold === 0,
      { durationMs: 3_000, what: 'stock untouched by the forged event' },
    );
  });

  it("keeps another customer's order out of reach: cancel through the edge needs the owner's token", async () => {
    const product = await newProduct(2, 700);
    const orderId = await order(customer, [{ sku: product.sku, quantity: 1 }]);
    const cancel = await call('order', 'POST', `orders/${orderId}/cancel`, { token: victim.token });
    expect(cancel.status).toBe(404);
    expect((await getOrder(customer, orderId)).status).not.toBe('CANCELLED');
  });
});
