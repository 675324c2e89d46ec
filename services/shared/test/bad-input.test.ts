import { randomUUID } from 'node:crypto';
import { eventually } from '../../../stack/test/support/eventually';
import {
  call,
  login,
  loginAdmin,
  newCustomer,
  registerUser,
  type Answer,
  type CallOptions,
  type TestCustomer,
} from '../../../stack/test/support/shop-client';

/**
 * The reproductions of the bad-input attack on the running shop (issue 13, "Bad input, at scale"),
 * each sent through a real Dapr sidecar: every one is a 4xx problem+json naming what is wrong, and
 * none of them writes anything.
 */

interface Problem {
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const password = () => `pw-${randomUUID()}`;

/** Asserts a client-error problem+json, naming `field` when given, and returns it. */
function expectProblem(answer: Answer<Problem>, status: number, field?: string): Problem {
  if (answer.status !== status) {
    throw new Error(`expected ${status}, got ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
  }
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(answer.body.status).toBe(status);
  if (field !== undefined) expect(answer.body.errors?.map((e) => e.field)).toContain(field);
  return answer.body;
}

describe('bad input through Dapr: a 4xx problem+json, never a 5xx, and nothing written', () => {
  let admin: string;
  let customer: TestCustomer;

  beforeAll(async () => {
    [admin, customer] = await Promise.all([
      loginAdmin().then((t) => t.accessToken),
      newCustomer('Bad Input Probe'),
    ]);
    // The profile comes from user_registered: wait for it so PATCH /users/me has something to keep intact.
    await eventually(
      () => call('user', 'GET', '/users/me', { token: customer.token }),
      (a) => a.status === 200,
      { what: 'profile of the probe customer' },
    );
  });

  const send = (app: string, method: string, path: string, options: CallOptions) =>
    call<Problem>(app, method, path, options);

  describe.each(['gzip', 'deflate', 'br'])(
    'content-encoding %s on a body that is not compressed',
    (encoding) => {
      const headers = { 'content-encoding': encoding };

      it('register: 400 naming the body, no account', async () => {
        const email = `enc-${randomUUID()}@example.com`;
        const secret = password();
        const answer = await send('auth', 'POST', '/auth/register', {
          rawBody: JSON.stringify({ email, password: secret, name: 'Enc' }),
          headers,
        });
        expectProblem(answer, 400, 'body');
        expect(
          (await call('auth', 'POST', '/auth/login', { body: { email, password: secret } })).status,
        ).toBe(401);
      });

      it('place order and patch profile: 400 naming the body, nothing changed', async () => {
        const order = await send('order', 'POST', '/orders', {
          token: customer.token,
          rawBody: JSON.stringify({
            items: [{ sku: 'SKU-MUG-CLASSIC', quantity: 1 }],
            paymentMethod: { token: 'tok_visa' },
          }),
          headers: { ...headers, 'idempotency-key': randomUUID() },
        });
        expectProblem(order, 400, 'body');
        const orders = await call<{ items: unknown[] }>('order', 'GET', '/orders', { token: customer.token });
        expect(orders.body.items).toEqual([]);

        const patch = await send('user', 'PATCH', '/users/me', {
          token: customer.token,
          rawBody: JSON.stringify({ name: 'Changed By Encoding' }),
          headers,
        });
        expectProblem(patch, 400, 'body');
        const me = await call<{ name: string }>('user', 'GET', '/users/me', { token: customer.token });
        expect(me.body.name).toBe('Bad Input Probe');
      });
    },
  );

  describe('NUL in stored strings: 400 naming the field, nothing stored', () => {
    it('register name', async () => {
      const email = `nul-${randomUUID()}@example.com`;
      const secret = password();
      const answer = await send('auth', 'POST', '/auth/register', {
        body: { email, password: secret, name: 'Null\u0000Name' },
      });
      expect(expectProblem(answer, 400, 'name').errors).toEqual([
        { field: 'name', message: 'must not contain NUL characters' },
      ]);
      expect((await call('auth', 'POST', '/auth/login', { body: { email, password: secret } })).status).toBe(
        401,
      );
    });

    it('profile name and address', async () => {
      const name = await send('user', 'PATCH', '/users/me', {
        token: customer.token,
        body: { name: 'a\u0000b' },
      });
      expectProblem(name, 400, 'name');
      const address = await send('user', 'PATCH', '/users/me', {
        token: customer.token,
        body: {
          addresses: [{ line1: '1 Main St\u0000', city: 'Berlin', postalCode: '10115', country: 'DE' }],
        },
      });
      expectProblem(address, 400, 'addresses.0.line1');
      const me = await call<{ name: string; addresses: unknown[] }>('user', 'GET', '/users/me', {
        token: customer.token,
      });
      expect(me.body).toMatchObject({ name: 'Bad Input Probe', addresses: [] });
    });

    it('product name', async () => {
      const sku = `SKU-NUL-${randomUUID().slice(0, 8)}`;
      const answer = await send('inventory', 'POST', '/products', {
        token: admin,
        body: { sku, name: 'Mug\u0000', price: 100, currency: 'USD', stock: 5 },
      });
      expectProblem(answer, 400, 'name');
      expect((await call('inventory', 'GET', `/products/${sku}`)).status).toBe(404);
    });

    it('a path parameter (GET /users/%2500) and a query value (/notifications?userId=%00)', async () => {
      // `%2500` decodes to `%00`, which daprd would decode once more: the edge refuses the path itself.
      expectProblem(await send('user', 'GET', '/users/%2500', { token: admin }), 400, 'path');
      expectProblem(
        await send('notification', 'GET', '/notifications?userId=%00', { token: admin }),
        400,
        'userId',
      );
    });
  });

  describe('tampered cursors: 400 naming the cursor', () => {
    const uuid = '0b7c3c36-8f41-4c55-9b7a-2b1c1b0c9a11';
    it.each([
      ['order', '/orders', b64url(['2020-01-01T00:00:00.000Z', '-'.repeat(36)])],
      ['order', '/orders', b64url(['-271821-04-20T00:00:00.000Z', uuid])],
      ['saga', '/sagas', b64url(['x', 'y'])],
      ['inventory', '/products', 'AA'],
      ['user', '/users', 'AA'],
      ['notification', '/notifications', b64url({ createdAt: '-271821-04-20T00:00:00.000Z', id: 'x' })],
    ])('%s %s?cursor=%s', async (app, path, cursor) => {
      const token = app === 'order' ? customer.token : admin;
      expectProblem(await send(app, 'GET', `${path}?cursor=${cursor}`, { token }), 400, 'cursor');
    });
  });

  describe('invalid UTF-8 in a path: 400 naming the path', () => {
    // Through the app's own sidecar: between two sidecars, daprd itself cannot marshal such a
    // method name into gRPC and answers 500 before any app sees the request.
    it.each([
      ['order', '/orders/%FF%FE'],
      ['order', '/orders/%ED%A0%80/cancel'],
      ['inventory', '/products/%ED%A0%80'],
      ['inventory', '/products/%FF%FE'],
      ['inventory', '/reservations/%FF%FE'],
      ['user', '/users/%FF%FE'],
      ['user', '/users/%ED%A0%80'],
      ['saga', '/sagas/%FF%FE'],
      ['saga', '/sagas/%ED%A0%80'],
    ] as const)('%s %s', async (app, path) => {
      const method = path.endsWith('/cancel') ? 'POST' : 'GET';
      const token = app === 'order' ? customer.token : admin;
      expectProblem(await send(app, method, path, { token, via: app }), 400, 'path');
    });
  });

  describe('deep JSON, numbers beyond 2^53, unicode edge cases', () => {
    it('deep JSON nesting is a 400 naming the field, not a crash', async () => {
      const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
      const answer = await send('order', 'POST', '/orders', {
        token: customer.token,
        rawBody: `{"items":[{"sku":"SKU-MUG-CLASSIC","quantity":${deep}}],"paymentMethod":{"token":"tok_visa"}}`,
        headers: { 'idempotency-key': randomUUID() },
      });
      expectProblem(answer, 400, 'items.0.quantity');
      expectProblem(await send('auth', 'POST', '/auth/login', { rawBody: deep }), 400);
    });

    it('a quantity beyond 2^53 is a 400 naming it, and places no order', async () => {
      const answer = await send('order', 'POST', '/orders', {
        token: customer.token,
        rawBody:
          '{"items":[{"sku":"SKU-MUG-CLASSIC","quantity":9007199254740993}],"paymentMethod":{"token":"tok_visa"}}',
        headers: { 'idempotency-key': randomUUID() },
      });
      expectProblem(answer, 400, 'items.0.quantity');
      const stock = await send('inventory', 'PATCH', '/products/SKU-MUG-CLASSIC', {
        token: admin,
        rawBody: '{"stockDelta":9007199254740993}',
      });
      expectProblem(stock, 400, 'stockDelta');
      const orders = await call<{ items: unknown[] }>('order', 'GET', '/orders', { token: customer.token });
      expect(orders.body.items).toEqual([]);
    });

    it.each([
      ['an IDN domain and combining marks', `u\u0301-${randomUUID()}@exämple.com`],
      ['a fullwidth at sign', `fw-${randomUUID()}\uff20example.com`],
      ['a lone surrogate', `ls-\ud800${randomUUID()}@example.com`],
      ['NUL', `nul-${randomUUID()}\u0000@example.com`],
      ['a right-to-left override', `rtl-\u202e${randomUUID()}@example.com`],
    ])('an email with %s is a 400 naming the email', async (_what, email) => {
      const answer = await send('auth', 'POST', '/auth/register', {
        body: { email, password: password(), name: 'U' },
      });
      expectProblem(answer, 400, 'email');
    });

    it('a name with a lone surrogate is a 400; well-formed unicode is kept exactly', async () => {
      const email = `ls-${randomUUID()}@example.com`;
      const broken = await send('auth', 'POST', '/auth/register', {
        rawBody: JSON.stringify({ email, password: password(), name: 'x' }).replace('"x"', '"x\\udc00"'),
      });
      expectProblem(broken, 400, 'name');

      const name = 'Zoë Ångström 東京 👩🏽‍💻 \u200d';
      const user = await registerUser(name);
      const { accessToken } = await login(user.email, user.password);
      const me = await eventually(
        () => call<{ name: string }>('user', 'GET', '/users/me', { token: accessToken }),
        (a) => a.status === 200,
        { what: 'profile with a unicode name' },
      );
      expect(me.body.name).toBe(name.trim());
    });
  });
});
