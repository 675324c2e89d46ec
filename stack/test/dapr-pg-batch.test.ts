import { randomUUID } from 'node:crypto';
import { CommunicationProtocolEnum, DaprClient } from '@dapr/dapr';
import type { StateOperation } from '@ecom/shared';
import { pgStateComponent } from '../src/components';
import { loadStackSettings, localComponentValues } from '../src/stack';
import { startTestApp, type TestApp } from './support/test-app';

// daprd is built with PostgreSQL state store v1's transactions sent as one pgx batch
// (stack/dapr-build/pg-multi-batch.go). These are the guarantees the upstream one-statement-at-a-time
// Multi gave, checked through a real sidecar on the stack's PostgreSQL: all of a transaction, or none.
const appId = 'pg-batch-probe';
const store = 'batchstore';

const batchStore = pgStateComponent(localComponentValues(loadStackSettings()), {
  name: store,
  appId,
  table: 'pg_batch_probe',
});

const upsert = (
  key: string,
  value: unknown,
  guard: { etag?: string; create?: true } = {},
): StateOperation => ({
  operation: 'upsert',
  request: {
    key,
    value,
    ...(guard.etag === undefined ? {} : { etag: guard.etag }),
    ...(guard.create ? { options: { concurrency: 'first-write' } } : {}),
  },
});
const remove = (key: string, etag?: string): StateOperation => ({
  operation: 'delete',
  request: { key, ...(etag === undefined ? {} : { etag }) },
});

describe('PostgreSQL state store v1 transactions, sent as one batch', () => {
  let app: TestApp;
  let client: DaprClient;

  beforeAll(async () => {
    app = await startTestApp({
      appId,
      withoutApp: true,
      extraResources: [batchStore],
    });
    client = new DaprClient({
      daprHost: '127.0.0.1',
      daprPort: String(app.daprHttpPort),
      communicationProtocol: CommunicationProtocolEnum.HTTP,
    });
  });

  afterAll(async () => {
    await app?.stop();
  });

  const read = (key: string) => app.sidecar.getState<{ n: number }>(store, key);
  const etagOf = async (key: string): Promise<string> => {
    const [item] = (await client.state.getBulk(store, [key])) as { etag?: string }[];
    if (item?.etag === undefined) throw new Error(`no etag for ${key}`);
    return item.etag;
  };

  it('commits every operation of a mixed transaction: upserts, a guarded upsert and deletes', async () => {
    const id = randomUUID();
    await app.sidecar.stateTransaction(store, [upsert(`${id}-a`, { n: 1 }), upsert(`${id}-gone`, { n: 0 })]);
    const etag = await etagOf(`${id}-a`);

    await app.sidecar.stateTransaction(store, [
      upsert(`${id}-a`, { n: 2 }, { etag }),
      upsert(`${id}-b`, { n: 3 }, { create: true }),
      remove(`${id}-gone`),
      remove(`${id}-never-was`),
      upsert(`${id}-c`, { n: 4 }),
    ]);

    expect(await read(`${id}-a`)).toEqual({ n: 2 });
    expect(await read(`${id}-b`)).toEqual({ n: 3 });
    expect(await read(`${id}-c`)).toEqual({ n: 4 });
    expect(await read(`${id}-gone`)).toBeUndefined();
  });

  it('writes nothing when the last operation is a create of a key that exists', async () => {
    const id = randomUUID();
    await app.sidecar.stateTransaction(store, [
      upsert(`${id}-taken`, { n: 1 }),
      upsert(`${id}-kept`, { n: 1 }),
    ]);

    await expect(
      app.sidecar.stateTransaction(store, [
        upsert(`${id}-new`, { n: 2 }),
        remove(`${id}-kept`),
        upsert(`${id}-taken`, { n: 2 }, { create: true }),
      ]),
    ).rejects.toThrow(/state transaction/);

    expect(await read(`${id}-new`)).toBeUndefined();
    expect(await read(`${id}-kept`)).toEqual({ n: 1 });
    expect(await read(`${id}-taken`)).toEqual({ n: 1 });
  });

  it('writes nothing when a delete carries a stale ETag, wherever it stands', async () => {
    const id = randomUUID();
    await app.sidecar.stateTransaction(store, [upsert(`${id}-x`, { n: 1 }), upsert(`${id}-y`, { n: 1 })]);
    const stale = await etagOf(`${id}-x`);
    await app.sidecar.stateTransaction(store, [upsert(`${id}-x`, { n: 2 }), upsert(`${id}-y`, { n: 2 })]);

    await expect(
      app.sidecar.stateTransaction(store, [remove(`${id}-x`, stale), upsert(`${id}-y`, { n: 3 })]),
    ).rejects.toThrow(/state transaction/);

    expect(await read(`${id}-x`)).toEqual({ n: 2 });
    expect(await read(`${id}-y`)).toEqual({ n: 2 });
  });

  it('lets exactly one of two transactions racing with the same ETag commit', async () => {
    const id = randomUUID();
    await app.sidecar.stateTransaction(store, [upsert(`${id}-k`, { n: 0 }), upsert(`${id}-log`, { n: 0 })]);
    const etag = await etagOf(`${id}-k`);

    const outcomes = await Promise.allSettled(
      [1, 2].map((n) =>
        app.sidecar.stateTransaction(store, [
          upsert(`${id}-log-${n}`, { n }),
          upsert(`${id}-k`, { n }, { etag }),
        ]),
      ),
    );

    const committed = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i + 1] : []));
    expect(committed).toHaveLength(1);
    const [winner] = committed;
    const loser = winner === 1 ? 2 : 1;
    expect(await read(`${id}-k`)).toEqual({ n: winner });
    expect(await read(`${id}-log-${winner}`)).toEqual({ n: winner });
    expect(await read(`${id}-log-${loser}`)).toBeUndefined();
  });
});
