import type { Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { Pool } from 'pg';
import { z } from 'zod';
import { AppError } from '../errors/app-error';
import { createLogger } from '../logging/logger';
import { createServiceApp, type ReadinessCheck, type ServiceApp } from './create-service-app';
import { parseInput } from './validate';

const thing = z.strictObject({
  name: z.string().min(1).max(100),
  quantity: z.number().int().min(1).max(1000),
});

describe('createServiceApp', () => {
  let service: ServiceApp;
  let server: Server;
  let base: string;
  const checks: ReadinessCheck[] = [];
  // A database that takes connections and never answers them: pg's pool gives up connecting.
  const silentSockets = new Set<Socket>();
  const silentDatabase = createTcpServer((socket) => silentSockets.add(socket));

  beforeAll(async () => {
    await new Promise<void>((resolve) => silentDatabase.listen(0, '127.0.0.1', resolve));
    const silentPort = (silentDatabase.address() as AddressInfo).port;
    service = createServiceApp({
      name: 'probe',
      port: 0,
      logger: createLogger('probe', 'silent'),
      bodyLimit: '1kb',
      readiness: checks,
      routes: (app) => {
        app.post('/echo', (req, res) => {
          res.json(req.body);
        });
        app.get('/limited', () => {
          throw new AppError('RATE_LIMITED', 'slow down', { retryAfterSeconds: 7 });
        });
        app.get('/boom', () => {
          throw new Error('internal detail');
        });
        app.get('/database-silent', async () => {
          const pool = new Pool({ host: '127.0.0.1', port: silentPort, connectionTimeoutMillis: 100 });
          try {
            await pool.query('select 1');
          } finally {
            await pool.end();
          }
        });
        app.get('/things/:id', (req, res) => {
          res.json(parseInput(z.object({ id: z.string().min(1).max(100) }), req.params, 'path'));
        });
        app.post('/things', (req, res) => {
          res.status(201).json(parseInput(thing, req.body, 'body'));
        });
      },
    });
    server = await service.start();
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await service.stop('test over');
    for (const socket of silentSockets) socket.destroy();
    silentDatabase.close();
  });

  const post = (body: string) =>
    fetch(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('serves /healthz', async () => {
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok', service: 'probe' });
  });

  it('reports readiness: degraded for a non-critical dependency, 503 for a critical one', async () => {
    checks.splice(
      0,
      checks.length,
      { name: 'db', check: async () => undefined, detail: { outbox: 'document-outbox' } },
      { name: 'cache', critical: false, check: () => Promise.reject(new Error('down')) },
    );
    const degraded = await fetch(`${base}/readyz`);
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toMatchObject({
      status: 'degraded',
      checks: { cache: { status: 'down' }, db: { status: 'up', detail: { outbox: 'document-outbox' } } },
    });

    checks.push({ name: 'broker', check: () => Promise.reject(new Error('unreachable')) });
    const unavailable = await fetch(`${base}/readyz`);
    expect(unavailable.status).toBe(503);
    expect(await unavailable.json()).toMatchObject({
      status: 'unavailable',
      checks: { broker: { error: 'unreachable' } },
    });
  });

  it('answers malformed JSON with a 400 problem naming the body', async () => {
    const response = await post('{"half":');
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await response.json()).toMatchObject({ status: 400, errors: [{ field: 'body' }] });
  });

  it('answers a body over the limit with 413', async () => {
    const response = await post(JSON.stringify({ text: 'x'.repeat(2_000) }));
    expect(response.status).toBe(413);
  });

  async function problemOf(response: Response) {
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    return (await response.json()) as { status: number; errors?: { field: string; message: string }[] };
  }

  it.each(['gzip', 'deflate', 'br', 'GZIP'])(
    'answers content-encoding %s on a body that is not compressed with a 400 problem naming the body',
    async (encoding) => {
      const response = await fetch(`${base}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        body: '{"email":"a@b.co"}',
      });
      expect(response.status).toBe(400);
      expect(await problemOf(response)).toMatchObject({ status: 400, errors: [{ field: 'body' }] });
    },
  );

  it('answers an encoding it does not read with a 400 problem naming the header', async () => {
    const response = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'compress' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(await problemOf(response)).toMatchObject({ errors: [{ field: 'content-encoding' }] });
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('still reads a body that really is %s-compressed', async (encoding, compress) => {
    const response = await fetch(`${base}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': encoding },
      body: compress(Buffer.from('{"ok":true}')),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true });
  });

  it.each(['/things/%FF%FE', '/things/%ED%A0%80', '/things/%C0%80', '/things/100%', '/nowhere/%FF'])(
    'answers the path %s, not percent-encoded UTF-8, with a 400 problem naming the path',
    async (path) => {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(400);
      expect(await problemOf(response)).toMatchObject({ errors: [{ field: 'path' }] });
    },
  );

  it('names a path parameter carrying NUL, which no store accepts', async () => {
    const response = await fetch(`${base}/things/%00`);
    expect(response.status).toBe(400);
    expect(await problemOf(response)).toMatchObject({
      errors: [{ field: 'id', message: 'must not contain NUL characters' }],
    });
    expect((await fetch(`${base}/things/%C3%A9t%C3%A9`)).status).toBe(200);
  });

  it.each([
    ['NUL in a string', JSON.stringify({ name: 'a\u0000b', quantity: 1 }), 'name'],
    ['a lone surrogate', '{"name":"x\\udc00","quantity":1}', 'name'],
    ['a number beyond 2^53', '{"name":"x","quantity":9007199254740993}', 'quantity'],
    ['deep nesting', `{"name":"x","quantity":${'['.repeat(400)}${']'.repeat(400)}}`, 'quantity'],
  ])('answers %s with a 400 problem naming the field', async (_what, body, field) => {
    const response = await fetch(`${base}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(400);
    expect(await problemOf(response)).toMatchObject({
      errors: expect.arrayContaining([expect.objectContaining({ field })]) as unknown,
    });
  });

  it('maps AppError kinds, with Retry-After for rate limits', async () => {
    const response = await fetch(`${base}/limited`);
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
  });

  it('answers an unknown route with a 404 problem and an unexpected error with an opaque 500', async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const boom = await fetch(`${base}/boom`);
    expect(boom.status).toBe(500);
    expect(await boom.text()).not.toContain('internal detail');
  });

  it('answers a request its database could not serve in time with a 503 to retry, not an opaque 500', async () => {
    const answer = await fetch(`${base}/database-silent`);
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(((await answer.json()) as { detail: string }).detail).toMatch(/could not reach its database/);
  });

  it('lingers when stopping, closing each connection after its answer, so keep-alive clients move on', async () => {
    const draining = createServiceApp({
      name: 'draining',
      port: 0,
      logger: createLogger('draining', 'silent'),
      shutdownTimeoutMs: 5_000,
      shutdownLingerMs: 500,
      routes: (app) => {
        app.get('/slow', (_req, res) => {
          setTimeout(() => res.json({ done: true }), 300);
        });
      },
    });
    const at = `http://127.0.0.1:${((await draining.start()).address() as AddressInfo).port}`;
    const before = await fetch(`${at}/healthz`);
    expect(before.headers.get('connection')).toBe('keep-alive');
    const inFlight = fetch(`${at}/slow`);
    // A request under way when the stop begins still gets its answer, with the connection closed after it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopping = draining.stop('test');
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('connection')).toBe('close');
    // Lingering: a new connection is still accepted and answered, and closed after its answer too.
    const late = await fetch(`${at}/healthz`);
    expect(late.status).toBe(200);
    expect(late.headers.get('connection')).toBe('close');
    await stopping;
    await expect(fetch(`${at}/healthz`)).rejects.toThrow();
  });
});
