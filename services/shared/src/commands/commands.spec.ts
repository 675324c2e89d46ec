import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../logging/logger';
import { createServiceApp } from '../http/create-service-app';
import { DaprSidecar } from '../dapr/dapr-sidecar';
import { AppError } from '../errors/app-error';
import { commandPath, commands } from './catalogue';
import { commandRoute, sendCommand } from './commands';

const orderId = '7c9e6679-7425-40de-944b-e07fc1f90ae7';

describe('the command catalogue', () => {
  it('fills the order id into a command path, encoded, and refuses a path without one', () => {
    expect(commandPath('markPaid', orderId)).toBe(`internal/orders/${orderId}/paid`);
    expect(commandPath('commitStock', 'a/b')).toBe('internal/reservations/a%2Fb/commit');
    expect(commandPath('charge')).toBe('internal/charges');
    expect(() => commandPath('markPaid')).toThrow(/order id/);
  });

  it('names callers for every command, and only POSTs under internal/', () => {
    for (const [name, spec] of Object.entries(commands)) {
      expect({ name, internal: spec.path.startsWith('internal/'), callers: spec.callers.length > 0 }).toEqual(
        {
          name,
          internal: true,
          callers: true,
        },
      );
    }
  });
});

describe('a command between two apps', () => {
  let server: Server;
  let port = 0;
  const handled: unknown[] = [];
  let reply: unknown = { outcome: 'committed' };

  beforeAll(async () => {
    const service = createServiceApp({
      name: 'callee',
      port: 0,
      logger: createLogger('callee', 'silent'),
      routes: (app) => {
        commandRoute(app, 'commitStock', async (input, params) => {
          handled.push({ input, params });
          return reply as { outcome: 'committed' };
        });
        commandRoute(app, 'charge', async (input) => {
          handled.push(input);
          return reply as { outcome: 'succeeded'; paymentId: string };
        });
      },
    });
    server = await service.start();
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    handled.length = 0;
    reply = { outcome: 'committed' };
  });

  const post = (path: string, caller: string | undefined, body: unknown) =>
    fetch(`http://127.0.0.1:${port}/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(caller ? { 'dapr-caller-app-id': caller } : {}) },
      body: JSON.stringify(body),
    });

  it('serves its callers only, with the path and body parsed by the catalogue', async () => {
    expect((await post(`internal/reservations/${orderId}/commit`, 'saga', {})).status).toBe(200);
    expect(handled).toEqual([{ input: {}, params: { orderId } }]);
    expect((await post(`internal/reservations/${orderId}/commit`, 'order', {})).status).toBe(403);
    expect((await post('internal/reservations/not-a-uuid/commit', 'saga', {})).status).toBe(400);
    const bad = await post('internal/charges', 'saga', { orderId, amount: -1, currency: 'usd' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toMatch(/amount.*currency|currency.*amount/s);
    expect(handled).toHaveLength(1);
  });

  it('checks the reply on the caller side: an answer outside the contract is an error, not an outcome', async () => {
    // A sidecar stand-in: the caller's invocation goes straight to the callee app, as saga.
    const sidecar = new DaprSidecar('127.0.0.1', port);
    const viaCallee = Object.assign(Object.create(sidecar) as DaprSidecar, {
      invoke: async (_app: string, _method: string, path: string, options: { body?: unknown }) => {
        const response = await post(path, 'saga', options.body);
        return { status: response.status, body: await response.json() };
      },
    });
    await expect(sendCommand(viaCallee, 'commitStock', {}, { orderId })).resolves.toEqual({
      outcome: 'committed',
    });
    reply = { outcome: 'sold-twice' };
    await expect(sendCommand(viaCallee, 'commitStock', {}, { orderId })).rejects.toMatchObject({
      kind: 'INVALID_DATA',
    } satisfies Partial<AppError>);
  });
});
