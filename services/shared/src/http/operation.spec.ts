import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { z } from 'zod';
import { JwtVerifier } from '../auth/jwt-verifier';
import { commandRoute } from '../commands/commands';
import { createLogger } from '../logging/logger';
import { apiCoverage, edgeReachMismatches } from './api-coverage';
import { createServiceApp, type ServiceApp } from './create-service-app';
import { openApiDocument } from './openapi';
import { accessGuards, defineApi, serveApi, type OperationArgs } from './operation';

const probeApi = defineApi({
  service: 'order',
  title: 'probe',
  description: 'A probe API.',
  operations: {
    listOrders: {
      method: 'get',
      path: '/orders',
      summary: 'List.',
      access: 'public',
      input: { query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }) },
      success: { status: 200, description: 'A page.' },
    },
    placeOrder: {
      method: 'post',
      path: '/orders/:id',
      summary: 'Place.',
      access: 'public',
      input: {
        params: z.object({ id: z.uuid() }),
        query: z.object({ dryRun: z.enum(['yes', 'no']).default('no') }),
        headers: { 'Idempotency-Key': z.string().max(5).optional() },
        body: z.strictObject({ quantity: z.number().int().min(1) }),
      },
      success: { status: 202, description: 'Accepted.' },
    },
    cancelOrder: {
      method: 'post',
      path: '/orders/:id/cancel',
      summary: 'Cancel.',
      access: 'user',
      input: { params: z.object({ id: z.uuid() }) },
      success: { status: 202, description: 'Asked.' },
    },
  },
});

type PlaceArgs = OperationArgs<typeof probeApi.operations.placeOrder.input>;

const ORDER_ID = '0b7c3c36-8f41-4c55-9b7a-2b1c1b0c9a11';
const verifier = new JwtVerifier({ issuer: 'probe', audience: 'probe', keys: { jwks: { keys: [] } } });

/** The probe's routes, with the commands the catalogue gives its service (order) unless left out. */
function mount(app: Express, seen: PlaceArgs[], { commands = true } = {}): void {
  if (commands) {
    commandRoute(app, 'markPaid', async (_input, { orderId }) => ({ orderId, status: 'PAID' }));
    commandRoute(app, 'markCancelled', async (input, { orderId }) => ({
      orderId,
      status: 'CANCELLED',
      cancellationReason: input.reason,
    }));
  }
  serveApi(app, probeApi, accessGuards(verifier), {
    listOrders: ({ query }, _req, res) => {
      res.json({ limit: query.limit });
    },
    placeOrder: (input, _req, res) => {
      seen.push(input);
      res.status(202).json({ ok: true });
    },
    cancelOrder: () => {
      throw new Error('the access guard lets nobody through here');
    },
  });
}

describe('serveApi', () => {
  let service: ServiceApp;
  let server: Server;
  let base: string;
  const seen: PlaceArgs[] = [];

  beforeAll(async () => {
    service = createServiceApp({
      name: 'probe',
      port: 0,
      logger: createLogger('probe', 'silent'),
      routes: (app) => {
        mount(app, seen);
      },
    });
    server = service.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });

  const place = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const fieldsOf = async (response: Response) => {
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    return ((await response.json()) as { errors?: { field: string }[] }).errors?.map((e) => e.field);
  };

  it('hands the handler each declared part as its schema parsed it', async () => {
    const response = await place(`/orders/${ORDER_ID}?dryRun=yes&ignored=1`, '{"quantity":2}', {
      'idempotency-key': 'k-1',
    });
    expect(response.status).toBe(202);
    expect(seen.at(-1)).toEqual({
      params: { id: ORDER_ID },
      query: { dryRun: 'yes' },
      headers: { 'Idempotency-Key': 'k-1' },
      body: { quantity: 2 },
    });
    expect(await (await fetch(`${base}/orders`)).json()).toEqual({ limit: 20 });
  });

  it('parses path, query, headers and body in that order and reports the first part that fails', async () => {
    const before = seen.length;
    expect(await fieldsOf(await place('/orders/nope?dryRun=maybe', '{"quantity":0}'))).toEqual(['id']);
    expect(await fieldsOf(await place(`/orders/${ORDER_ID}?dryRun=maybe`, '{"quantity":0}'))).toEqual([
      'dryRun',
    ]);
    expect(
      await fieldsOf(await place(`/orders/${ORDER_ID}`, '{"quantity":0}', { 'idempotency-key': 'too-long' })),
    ).toEqual(['Idempotency-Key']);
    expect(await fieldsOf(await place(`/orders/${ORDER_ID}`, '{"quantity":0,"x":1}'))).toEqual(
      expect.arrayContaining(['quantity']),
    );
    expect(await fieldsOf(await place(`/orders/${ORDER_ID}`, '{"quantity":"\\u0000"}'))).toEqual([
      'quantity',
    ]);
    expect(seen.length).toBe(before);
  });

  it("enforces the operation's access before reading its input", async () => {
    const anonymous = await fetch(`${base}/orders/not-a-uuid/cancel`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    const forged = await fetch(`${base}/orders/not-a-uuid/cancel`, {
      method: 'POST',
      headers: { authorization: 'Bearer aaa.bbb.ccc' },
    });
    expect(forged.status).toBe(401);
  });

  it('serves the document built from the same declarations at /openapi.json', async () => {
    const response = await fetch(`${base}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    expect(await response.json()).toEqual(openApiDocument(probeApi));
  });
});

describe('api coverage', () => {
  it('matches the routes served with the document when every route is declared', async () => {
    const { served, documented } = await apiCoverage('probe', (app) => {
      mount(app, []);
    });
    expect(served).toEqual(documented);
    expect(served).toEqual(
      expect.arrayContaining(['POST /orders/{id}/cancel', 'GET /healthz', 'GET /metrics']),
    );
  });

  it('tells a route served without a document entry', async () => {
    const { served, documented } = await apiCoverage('probe', (app) => {
      mount(app, []);
      app.delete('/orders/:id', (_req, res) => {
        res.status(204).end();
      });
    });
    expect(served).not.toEqual(documented);
    expect(served.filter((route) => !documented.includes(route))).toEqual(['DELETE /orders/{id}']);
  });

  it('tells a documented route the service does not serve (a command of its catalogue left out)', async () => {
    const { served, documented } = await apiCoverage('probe', (app) => {
      mount(app, [], { commands: false });
    });
    expect(documented.filter((route) => !served.includes(route))).toEqual([
      'POST /internal/orders/{orderId}/cancelled',
      'POST /internal/orders/{orderId}/paid',
    ]);
  });

  it('tells an operation whose reach through the edge contradicts who-may-call', () => {
    const document = openApiDocument(probeApi);
    expect(edgeReachMismatches('order', document)).toEqual([]);
    const leaky = openApiDocument(
      defineApi({
        ...probeApi,
        operations: {
          secret: {
            method: 'get',
            path: '/secrets',
            summary: 'Not a public route of order.',
            access: 'admin',
            input: {},
            success: { status: 200, description: 'Secrets.' },
          },
        },
      }),
    );
    expect(edgeReachMismatches('order', leaky)).toEqual(['GET /secrets']);
  });
});
