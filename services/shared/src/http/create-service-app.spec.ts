import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '../errors/app-error';
import { createLogger } from '../logging/logger';
import { createServiceApp, type ReadinessCheck, type ServiceApp } from './create-service-app';

describe('createServiceApp', () => {
  let service: ServiceApp;
  let server: Server;
  let base: string;
  const checks: ReadinessCheck[] = [];

  beforeAll(async () => {
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
      },
    });
    server = await service.start();
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await service.stop('test over');
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
      { name: 'db', check: async () => undefined },
      { name: 'cache', critical: false, check: () => Promise.reject(new Error('down')) },
    );
    const degraded = await fetch(`${base}/readyz`);
    expect(degraded.status).toBe(200);
    expect(await degraded.json()).toMatchObject({
      status: 'degraded',
      checks: { cache: { status: 'down' }, db: { status: 'up' } },
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
});
