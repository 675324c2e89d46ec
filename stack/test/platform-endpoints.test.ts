import { servicePorts, type ServiceId } from '../src/settings';
import { presentServices } from '../src/services';
import { call } from './support/shop-client';

/** Another service, whose sidecar makes a remote invocation (Dapr names the caller there). */
const other = (id: ServiceId): ServiceId => (id === 'order' ? 'saga' : 'order');

describe('local stack: /readyz and /metrics answer the app port only, not service invocation', () => {
  const services = presentServices().filter((id) => id !== 'edge');

  it.each(['readyz', 'metrics'])(
    '/%s answers nobody through Dapr or the edge, and answers on the app port',
    async (path) => {
      for (const id of services) {
        // Through the edge (not a public route), through the app's own sidecar (the caller's headers
        // pass as they are), and through another service's (its access-control policy refuses it).
        const answers = {
          edge: (await call(id, 'GET', path)).status,
          own: (await call(id, 'GET', path, { via: id })).status,
          other: (await call(id, 'GET', path, { via: other(id) })).status,
        };
        expect({ id, ...answers }).toEqual({ id, edge: 404, own: 404, other: 403 });
        for (const via of [undefined, id, other(id)]) {
          const answer = await call(id, 'GET', path, { via });
          expect(JSON.stringify(answer.body)).not.toMatch(/process_cpu|"checks"/);
        }
        // Directly, the endpoint answers (readiness may be 503 while a dependency is starting).
        const direct = await fetch(`http://127.0.0.1:${servicePorts(id).app}/${path}`);
        const text = await direct.text();
        expect({ id, answered: direct.status !== 404 && /process_cpu|"checks"/.test(text) }).toEqual({
          id,
          answered: true,
        });
      }
    },
  );

  it('/healthz (alive, nothing more) answers through the edge', async () => {
    for (const id of services) expect((await call(id, 'GET', 'healthz')).status).toBe(200);
  });
});
