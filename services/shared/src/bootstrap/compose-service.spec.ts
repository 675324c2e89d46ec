import type { AddressInfo } from 'node:net';
import { Counter } from 'prom-client';
import { JwtVerifier } from '../auth/jwt-verifier';
import type { BaseConfig } from '../config/load-config';
import type { ServiceApp } from '../http/create-service-app';
import { createLogger } from '../logging/logger';
import {
  assembleService,
  type OpenedStore,
  type ServiceAssembly,
  type ServiceParts,
} from './compose-service';

/** Settings as a schema would have parsed them: an ephemeral port, and a sidecar nobody answers for. */
const base: BaseConfig = {
  APP_PORT: 0,
  APP_HOST: '127.0.0.1',
  DAPR_HTTP_PORT: 1,
  DAPR_GRPC_PORT: 50001,
  DAPR_HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
  SHUTDOWN_TIMEOUT_MS: 1_000,
  SHUTDOWN_LINGER_MS: 0,
  BODY_LIMIT: '100kb',
  STORE_CONNECT_TIMEOUT_MS: 0,
};
const withAuth = {
  ...base,
  AUTH_JWKS_URL: 'http://127.0.0.1:1/.well-known/jwks.json',
  AUTH_ISSUER: 'ecom-micro-auth',
  AUTH_AUDIENCE: 'ecom-micro',
  AUTH_CLOCK_TOLERANCE_S: 5,
};

/** A store that writes down when each of its hooks runs, into the same journal as the service's parts. */
function journaledStore(journal: string[]): OpenedStore<{ storeName: string }> {
  return {
    context: { storeName: 'fake' },
    readiness: [{ name: 'fake-db', check: () => Promise.resolve() }],
    onListening: () => journal.push('store listening'),
    close: () => {
      journal.push('store closed');
      return Promise.resolve();
    },
  };
}

describe('assembleService: the one composition every bootstrap shares', () => {
  let service: ServiceApp | undefined;
  afterEach(async () => {
    await service?.stop('test over');
    service = undefined;
  });

  async function started(assembled: ServiceApp): Promise<string> {
    service = assembled;
    const server = await assembled.start();
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** A service on the base settings over a store that keeps no journal, started; resolves with its URL. */
  async function startedProbe(compose: ServiceAssembly<BaseConfig, object>['compose']): Promise<string> {
    return started(
      await assembleService({
        name: 'probe',
        config: base,
        logger: createLogger('probe', 'silent'),
        openStore: () => Promise.resolve(journaledStore([])),
        compose,
      }),
    );
  }

  it('tries the store again while it fails, within STORE_CONNECT_TIMEOUT_MS, then gives up with its error', async () => {
    let tries = 0;
    const flaky = () => {
      tries += 1;
      return tries < 3
        ? Promise.reject(new Error(`refused (${tries})`))
        : Promise.resolve(journaledStore([]));
    };
    const assembly = {
      name: 'probe',
      logger: createLogger('probe', 'silent'),
      compose: () => ({ routes: () => undefined }),
    };
    // Third time lucky: 0.5 s then 1 s of pause fit in 5 s.
    await started(
      await assembleService({
        ...assembly,
        config: { ...base, STORE_CONNECT_TIMEOUT_MS: 5_000 },
        openStore: flaky,
      }),
    );
    expect(tries).toBe(3);
    // Without time to retry, the first error stands.
    tries = 0;
    await expect(assembleService({ ...assembly, config: base, openStore: flaky })).rejects.toThrow(
      'refused (1)',
    );
    expect(tries).toBe(1);
  });

  it('starts the parts before listening and the store after; stops HTTP, then the parts, then the store', async () => {
    const journal: string[] = [];
    const url = await started(
      await assembleService({
        name: 'probe',
        config: base,
        logger: createLogger('probe', 'silent'),
        openStore: () => {
          journal.push('store opened');
          return Promise.resolve(journaledStore(journal));
        },
        compose: ({ storeName }): ServiceParts => {
          journal.push(`composed on ${storeName}`);
          return {
            routes: () => undefined,
            onStart: () => {
              journal.push('parts started');
              return Promise.resolve();
            },
            onShutdown: () => {
              journal.push('parts stopped');
              return Promise.resolve();
            },
          };
        },
      }),
    );
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    await service?.stop('test over');
    expect(journal).toEqual([
      'store opened',
      'composed on fake',
      'parts started',
      'store listening',
      'parts stopped',
      'store closed',
    ]);
  });

  it("reports the store's readiness, the sidecar's (not critical) and the parts' own; serves their metrics", async () => {
    const sends = new Counter({ name: 'probe_sends_total', help: 'Sends.', registers: [] });
    sends.inc();
    const url = await startedProbe(() => ({
      routes: () => undefined,
      readiness: [{ name: 'mail', critical: false, check: () => Promise.resolve() }],
      metrics: [sends],
    }));
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; checks: Record<string, unknown> };
    expect(body.status).toBe('degraded');
    expect(Object.keys(body.checks).sort()).toEqual(['dapr', 'fake-db', 'mail']);
    expect(body.checks.dapr).toMatchObject({ status: 'down', critical: false });
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/probe_sends_total\{[^}]*\} 1/);
  });

  it('mounts subscriptions only for a service that subscribes to something', async () => {
    const quiet = await startedProbe(() => ({ routes: () => undefined }));
    expect((await fetch(`${quiet}/dapr/subscribe`)).status).toBe(404);
    await service?.stop('next');

    const listening = await startedProbe(({ subscriber }) => {
      subscriber.on('order_created', () => Promise.resolve());
      return { routes: () => undefined };
    });
    const list = (await (await fetch(`${listening}/dapr/subscribe`)).json()) as { topic: string }[];
    expect(list.map((s) => s.topic)).toEqual(['order_created']);
  });

  it("gives a verifier exactly to a service whose settings name the auth service's JWKS", async () => {
    const seen: unknown[] = [];
    const open = () => Promise.resolve(journaledStore([]));
    const logger = createLogger('probe', 'silent');
    await assembleService({
      name: 'probe',
      config: withAuth,
      logger,
      openStore: open,
      compose: ({ verifier }) => {
        seen.push(verifier);
        return { routes: () => undefined };
      },
    });
    await assembleService({
      name: 'probe',
      config: base,
      logger,
      openStore: open,
      compose: (context) => {
        seen.push('verifier' in context);
        return { routes: () => undefined };
      },
    });
    expect(seen[0]).toBeInstanceOf(JwtVerifier);
    expect(seen[1]).toBe(false);
  });
});
