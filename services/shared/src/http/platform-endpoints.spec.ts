import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../logging/logger';
import { createServiceApp, type ServiceApp } from './create-service-app';

const TOKEN = 'app-token-0123456789abcdef';

describe('platform endpoints (/readyz, /metrics): direct callers only', () => {
  let service: ServiceApp;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    service = createServiceApp({
      name: 'probe',
      port: 0,
      logger: createLogger('probe', 'silent'),
      appApiToken: TOKEN,
      routes: () => undefined,
    });
    server = await service.start();
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await service.stop('test over');
  });

  const status = async (path: string, headers: Record<string, string> = {}) =>
    (await fetch(`${base}${path}`, { headers })).status;

  it('answers a request to the app port (a probe, a scraper)', async () => {
    for (const path of ['/readyz', '/metrics', '/healthz']) expect(await status(path)).toBe(200);
  });

  it('answers 404 to what the sidecar delivered: it carries the app API token', async () => {
    // An invocation through the app's own sidecar carries nothing else that Dapr sets.
    const sidecar = { 'dapr-api-token': TOKEN };
    expect(await status('/readyz', sidecar)).toBe(404);
    expect(await status('/metrics', sidecar)).toBe(404);
    expect(await status('/METRICS/', sidecar)).toBe(404);
    expect(await status('/healthz', sidecar)).toBe(200);
    const body = await (await fetch(`${base}/metrics`, { headers: sidecar })).text();
    expect(body).not.toContain('process_cpu');
  });

  it('answers 404 to an invocation from another sidecar, which names the caller', async () => {
    expect(await status('/metrics', { 'dapr-caller-app-id': 'order' })).toBe(404);
    expect(await status('/readyz', { 'dapr-callee-app-id': 'probe' })).toBe(404);
  });

  it('takes a token it does not know for no proof of anything', async () => {
    expect(await status('/metrics', { 'dapr-api-token': `${TOKEN}x` })).toBe(200);
  });

  it('without an app API token, still refuses invocations from other sidecars', async () => {
    const bare = createServiceApp({
      name: 'bare',
      port: 0,
      logger: createLogger('bare', 'silent'),
      routes: () => undefined,
    });
    const listening = await bare.start();
    const url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}/metrics`;
    try {
      expect((await fetch(url)).status).toBe(200);
      expect((await fetch(url, { headers: { 'dapr-api-token': TOKEN } })).status).toBe(200);
      expect((await fetch(url, { headers: { 'dapr-caller-app-id': 'order' } })).status).toBe(404);
    } finally {
      await bare.stop('test over');
    }
  });
});
