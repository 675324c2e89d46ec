import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, createServiceApp, DaprSidecar } from '@ecom/shared';
import { edgeRoutes } from './routes';

/** Stands in for the edge's sidecar: records what the edge forwards, answers what the test says. */
interface Forwarded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('the edge', () => {
  const forwarded: Forwarded[] = [];
  let answer: { status: number; type: string; body: string } = {
    status: 200,
    type: 'application/json',
    body: '{}',
  };
  /** How many of the next forwarded requests the sidecar drops without an answer (closing the socket). */
  let dropNext = 0;
  /** Whether the sidecar cuts its next answer after the status line and part of the body. */
  let cutNext = false;
  /** Whether the sidecar leaves its next request without any answer (until the test ends). */
  let hangNext = false;
  let sidecar: Server;
  let edge: Server;
  let edgeUrl = '';

  beforeAll(async () => {
    sidecar = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        forwarded.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        if (dropNext > 0) {
          dropNext -= 1;
          req.socket.destroy();
          return;
        }
        if (hangNext) {
          hangNext = false;
          return;
        }
        if (cutNext) {
          cutNext = false;
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
          res.write('{"items":[', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.status, { 'content-type': answer.type, 'x-internal': 'secret' });
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => sidecar.listen(0, '127.0.0.1', resolve));
    const sidecarPort = (sidecar.address() as AddressInfo).port;
    const service = createServiceApp({
      name: 'edge',
      port: 0,
      logger: createLogger('edge', 'silent'),
      rawBody: true,
      routes: edgeRoutes({
        sidecar: new DaprSidecar('127.0.0.1', sidecarPort, 'edge-sidecar-token-0123456789'),
        timeoutMs: 2_000,
        logger: createLogger('edge', 'silent'),
      }),
    });
    edge = await service.start();
    edgeUrl = `http://127.0.0.1:${(edge.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => edge.close(resolve));
    await new Promise((resolve) => sidecar.close(resolve));
  });

  beforeEach(() => {
    forwarded.length = 0;
    answer = { status: 200, type: 'application/json', body: '{"ok":true}' };
  });

  it('forwards a public route with its query and body as sent, carrying its own token and the client address it saw', async () => {
    const body = '{"items":[{"sku":"A","quantity":1}], "x": 1e2}';
    const response = await fetch(`${edgeUrl}/v1.0/invoke/order/method/orders?limit=2`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer abc',
        'idempotency-key': 'k1',
        'x-forwarded-for': '203.0.113.9',
        'dapr-caller-app-id': 'saga',
        'dapr-api-token': 'guess',
        cookie: 'a=b',
      },
      body,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-internal')).toBeNull();
    expect(forwarded).toHaveLength(1);
    const [call] = forwarded;
    expect(call?.method).toBe('POST');
    expect(call?.url).toBe('/v1.0/invoke/order/method/orders?limit=2');
    expect(call?.body).toBe(body);
    expect(call?.headers).toMatchObject({
      authorization: 'Bearer abc',
      'idempotency-key': 'k1',
      'x-forwarded-for': '127.0.0.1',
      'dapr-api-token': 'edge-sidecar-token-0123456789',
    });
    expect(call?.headers['dapr-caller-app-id']).toBeUndefined();
    expect(call?.headers.cookie).toBeUndefined();
  });

  it.each([
    '/v1.0/invoke/order/method/internal/orders/4b7c/paid',
    '/v1.0/invoke/payment/method/internal/refunds',
    '/v1.0/invoke/order/method/orders/..%2Finternal%2Forders%2F4b7c%2Fpaid',
    '/v1.0/invoke/order/method/orders/%2E%2E/internal/orders/4b7c/paid',
    '/v1.0/invoke/order/method/readyz',
    '/v1.0/invoke/order/method/metrics',
    '/v1.0/invoke/edge/method/healthz',
    '/v1.0/publish/pubsub/order_created',
    '/v1.0-beta1/workflows/dapr/4b7c',
    '/v1.0/metadata',
  ])('answers 404 to %s without forwarding it', async (path) => {
    const response = await fetch(`${edgeUrl}${path}`, { method: 'POST' });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(forwarded).toHaveLength(0);
  });

  /** A request with its path exactly as written: `fetch` would resolve `..` and read `\\` as `/` first. */
  function raw(method: string, path: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = request(`${edgeUrl}/`, { method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            type: String(res.headers['content-type']),
            body: Buffer.concat(chunks).toString(),
          });
        });
      });
      req.on('error', reject);
      req.end();
    });
  }

  it.each([
    // Climbs to the edge sidecar's own API (`/v1.0/metadata`, `/v1.0/shutdown`) once a URL parser reads it.
    ['GET', '/v1.0/invoke/order/method/orders/x\\..\\..\\..\\..\\..\\metadata'],
    ['POST', '/v1.0/invoke/order/method/orders/x\\..\\..\\..\\..\\..\\shutdown'],
    ['GET', '/v1.0/invoke/order/method/orders/%5C..%5C..%5Cmetadata'],
    ['GET', '/v1.0/invoke/user/method/users/%0A'],
    ['GET', '/v1.0/invoke/user/method/users/%25zz'],
    ['GET', '/v1.0/invoke/user/method/users/a%3Fb'],
    ['GET', '/v1.0/invoke/user/method/users/a%23b'],
    ['GET', '/v1.0/invoke/order/method/orders/%FF%FE'],
  ])('refuses %s %s as a 400 naming the path, without forwarding it', async (method, path) => {
    const answer = await raw(method, path);
    expect(answer.status).toBe(400);
    expect(answer.type).toContain('application/problem+json');
    expect(JSON.parse(answer.body)).toMatchObject({ errors: [{ field: 'path' }] });
    expect(forwarded).toHaveLength(0);
  });

  it('refuses a header value daprd cannot carry as a 400 naming the header, without forwarding it', async () => {
    const answer = await raw('POST', '/v1.0/invoke/order/method/orders', {
      'idempotency-key': Buffer.from('caf\u00e9', 'latin1').toString('latin1'),
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ errors: [{ field: 'idempotency-key' }] });
    expect(forwarded).toHaveLength(0);
  });

  it('forwards a GET without the body a client sent along', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${edgeUrl}/v1.0/invoke/order/method/orders`,
        { method: 'GET', headers: { 'content-type': 'application/json', 'content-length': '14' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
          });
        },
      );
      req.on('error', reject);
      req.end('{"stray":true}');
    });
    expect(answer).toMatchObject({ status: 200 });
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]?.body).toBe('');
  });

  it("never sends a path that leaves the invoked method to the sidecar's API", async () => {
    const sidecar = new DaprSidecar('127.0.0.1', 1, 't');
    await expect(
      sidecar.forward('order', 'GET', 'orders/x\\..\\..\\..\\..\\metadata', { headers: {}, timeoutMs: 100 }),
    ).rejects.toMatchObject({ kind: 'INVALID_DATA' });
    await expect(
      sidecar.forward('order', 'GET', 'orders/../../../metadata', { headers: {}, timeoutMs: 100 }),
    ).rejects.toMatchObject({ kind: 'INVALID_DATA' });
  });

  it('sends a read once more when the sidecar dropped it unanswered, never a write; then answers 503', async () => {
    answer = { status: 200, type: 'application/json', body: '{"items":[]}' };
    forwarded.length = 0;
    dropNext = 1;
    const read = await fetch(`${edgeUrl}/v1.0/invoke/inventory/method/products`);
    expect(read.status).toBe(200);
    expect(forwarded).toHaveLength(2);

    forwarded.length = 0;
    dropNext = 2;
    const twice = await fetch(`${edgeUrl}/v1.0/invoke/inventory/method/products`);
    expect(twice.status).toBe(503);
    expect(forwarded).toHaveLength(2);

    forwarded.length = 0;
    dropNext = 1;
    const write = await fetch(`${edgeUrl}/v1.0/invoke/order/method/orders`, { method: 'POST', body: '{}' });
    expect(write.status).toBe(503);
    expect(forwarded).toHaveLength(1);
    dropNext = 0;
  });

  it('answers 503 when the sidecar cuts an answer short after its status line', async () => {
    cutNext = true;
    const cut = await fetch(`${edgeUrl}/v1.0/invoke/inventory/method/products`);
    expect(cut.status).toBe(503);
    expect(cut.headers.get('content-type')).toContain('application/problem+json');
    expect((await fetch(`${edgeUrl}/v1.0/invoke/inventory/method/products`)).status).toBe(200);
  });

  it('answers 503 naming the timeout when the sidecar does not answer in time, and sends a read once', async () => {
    hangNext = true;
    const slow = await fetch(`${edgeUrl}/v1.0/invoke/inventory/method/products`);
    expect(slow.status).toBe(503);
    expect(((await slow.json()) as { detail?: string }).detail).toBe(
      'inventory did not answer within 2000 ms',
    );
    expect(forwarded).toHaveLength(1);
  });

  it("relays a service's problem as it is, and hides the sidecar's own failures behind one problem", async () => {
    answer = { status: 409, type: 'application/problem+json', body: '{"status":409,"title":"Conflict"}' };
    const conflict = await fetch(`${edgeUrl}/v1.0/invoke/order/method/orders`, { method: 'POST' });
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toEqual({ status: 409, title: 'Conflict' });

    answer = {
      status: 500,
      type: 'application/json',
      body: '{"errorCode":"ERR_DIRECT_INVOKE","message":"x"}',
    };
    const down = await fetch(`${edgeUrl}/v1.0/invoke/order/method/orders`);
    expect(down.status).toBe(503);
    expect(JSON.stringify(await down.json())).not.toContain('ERR_DIRECT_INVOKE');

    answer = { status: 403, type: 'application/json', body: '{"errorCode":"ERR_DIRECT_INVOKE"}' };
    expect((await fetch(`${edgeUrl}/v1.0/invoke/order/method/orders`)).status).toBe(404);
  });
});
