import type { DaprClient } from '@dapr/dapr';
import { buildEvent } from '../events/envelope';
import type { DaprSidecar, StateOperation } from './dapr-sidecar';
import { DaprStateStore } from './dapr-state';

/** A sidecar that records state transactions and fails them on demand. */
function fakeSidecar(fail = false) {
  const calls: { store: string; operations: StateOperation[] }[] = [];
  const sidecar = {
    stateTransaction: async (store: string, operations: StateOperation[]) => {
      calls.push({ store, operations });
      if (fail) throw new Error('state transaction failed');
    },
  } as unknown as DaprSidecar;
  return { sidecar, calls };
}

/** A client whose bulk read answers what the key holds now. */
function fakeClient(now: { data: unknown; etag: string } | undefined) {
  return {
    state: { getBulk: async () => (now === undefined ? [{ key: 'k' }] : [{ key: 'k', ...now }]) },
  } as unknown as DaprClient;
}

const event = () => ({
  name: 'order_paid' as const,
  payload: buildEvent('order_paid', {
    orderId: '0b7c3c36-8f41-4c55-9b7a-2b1c1b0c9a11',
    customerId: 'c',
    total: 1,
    currency: 'EUR',
  }),
});

describe("DaprStateStore's writes through Dapr's outbox", () => {
  it('writes the aggregate and its event as one transaction on the event’s own component, projection last', async () => {
    const { sidecar, calls } = fakeSidecar();
    const store = new DaprStateStore('order', sidecar, fakeClient(undefined));
    const e = event();
    expect(await store.write('order-1', { status: 'PAID' }, { etag: '7' }, e)).toBe('written');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.store).toBe('state-order-paid');
    const [aggregate, projection, ...rest] = calls[0]?.operations ?? [];
    expect(rest).toEqual([]);
    expect(aggregate?.request).toMatchObject({ key: 'order-1', value: { status: 'PAID' }, etag: '7' });
    expect(aggregate?.request.metadata?.['outbox.projection']).toBeUndefined();
    expect(projection?.request).toMatchObject({
      key: 'order-1',
      value: e.payload,
      metadata: { 'outbox.projection': 'true', contentType: 'application/json' },
    });
  });

  it('guards a create with first-write concurrency, not a prior read', async () => {
    const { sidecar, calls } = fakeSidecar();
    await new DaprStateStore('order', sidecar, fakeClient(undefined)).write(
      'order-1',
      {},
      { create: true },
      event(),
    );
    expect(calls[0]?.operations[0]?.request).toMatchObject({ options: { concurrency: 'first-write' } });
    expect(calls[0]?.operations[0]?.request.etag).toBeUndefined();
  });

  it("answers 'conflict' when a failed write lost its guard, and rethrows any other failure", async () => {
    const lostCreate = new DaprStateStore(
      'order',
      fakeSidecar(true).sidecar,
      fakeClient({ data: {}, etag: '3' }),
    );
    expect(await lostCreate.write('k', {}, { create: true }, event())).toBe('conflict');
    const lostUpdate = new DaprStateStore(
      'order',
      fakeSidecar(true).sidecar,
      fakeClient({ data: {}, etag: '9' }),
    );
    expect(await lostUpdate.write('k', {}, { etag: '3' }, event())).toBe('conflict');
    const broken = new DaprStateStore(
      'order',
      fakeSidecar(true).sidecar,
      fakeClient({ data: {}, etag: '3' }),
    );
    await expect(broken.write('k', {}, { etag: '3' }, event())).rejects.toThrow('state transaction failed');
  });
});
