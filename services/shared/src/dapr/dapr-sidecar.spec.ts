import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '../errors/app-error';
import { DaprSidecar, sidecarTimedOut } from './dapr-sidecar';

/** A stand-in for the sidecar's HTTP port: answers `/v1.0/invoke/fast/…` at once, never `/…/slow/…`. */
describe('DaprSidecar deadlines', () => {
  let server: Server;
  let sidecar: DaprSidecar;
  const hanging: ServerResponse[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.includes('/invoke/slow/')) {
        hanging.push(res);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    sidecar = new DaprSidecar('127.0.0.1', (server.address() as AddressInfo).port);
  });
  afterAll(async () => {
    for (const res of hanging) res.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers a call made within its deadline', async () => {
    await expect(sidecar.invoke('fast', 'GET', '/thing', { timeoutMs: 1_000 })).resolves.toEqual({
      status: 200,
      body: { ok: true },
    });
  });

  it('ends a call the sidecar leaves unanswered at its deadline, as a timeout', async () => {
    const error = await sidecar.invoke('slow', 'GET', '/thing', { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).kind).toBe('UNAVAILABLE');
    expect(sidecarTimedOut(error)).toBe(true);
  });

  it('forwards a read that timed out as a timeout too, not as a lost answer', async () => {
    const error = await sidecar
      .forward('slow', 'GET', 'thing', { headers: {}, timeoutMs: 100 })
      .catch((e: unknown) => e);
    expect(sidecarTimedOut(error)).toBe(true);
  });
});
