import { AppError } from '@ecom/shared';
import { CURRENT_SAGA_VERSION, type OrderSagaInput, type SagaStatus } from './saga';
import type { SagaEngine } from './saga-engine';
import type { SagaLog } from './saga-log';
import { SagaService, type OrderCreated } from './saga-service';

const policy = { stepTimeoutMs: 15_000, retryInitialMs: 250, retryMaxMs: 2_000, reservationTtlSeconds: 30 };
const event: OrderCreated = {
  orderId: '6f1c1d2e-0000-4000-8000-000000000003',
  customerId: 'c-1',
  items: [{ sku: 'a', quantity: 1, unitPrice: 100 }],
  total: 100,
  currency: 'USD',
  paymentToken: 'tok_visa',
  deadline: '2026-01-01T00:01:00Z',
};

/** An engine and a log in memory, enough to watch what the service asks of them. */
function fakes() {
  const instances = new Map<string, OrderSagaInput>();
  const cancels: string[] = [];
  const sagas = new Map<string, { status: SagaStatus; cancelRequested: boolean }>();
  const engine: SagaEngine = {
    start: (input) => {
      if (!instances.has(input.orderId)) instances.set(input.orderId, input);
      return Promise.resolve();
    },
    cancel: (id) => Promise.resolve(instances.has(id) && cancels.push(id) > 0),
  };
  const log = {
    open: ({ orderId }: { orderId: string }) => {
      if (!sagas.has(orderId)) sagas.set(orderId, { status: 'RUNNING', cancelRequested: false });
      return Promise.resolve(sagas.get(orderId)?.status);
    },
    requestCancel: (orderId: string) => {
      const saga = sagas.get(orderId);
      sagas.set(orderId, { status: saga?.status ?? 'RUNNING', cancelRequested: true });
      return Promise.resolve(saga?.status);
    },
    isCancelRequested: (orderId: string) => Promise.resolve(sagas.get(orderId)?.cancelRequested ?? false),
  } as unknown as SagaLog;
  return { engine, log, instances, cancels, sagas };
}

describe('SagaService', () => {
  it('schedules one saga however often order_created is delivered', async () => {
    const f = fakes();
    const start = jest.spyOn(f.engine, 'start');
    const service = new SagaService(f.engine, f.log, policy, CURRENT_SAGA_VERSION);
    await service.onOrderCreated(event);
    await service.onOrderCreated(event);
    // The engine leaves a running instance alone (Dapr: "already exists"): one instance, its first input.
    expect(start).toHaveBeenCalledTimes(2);
    expect(f.instances.size).toBe(1);
    // New sagas start in the current shape; an instance keeps the shape it started with.
    expect(f.instances.get(event.orderId)).toMatchObject({
      orderId: event.orderId,
      policy,
      version: CURRENT_SAGA_VERSION,
    });
  });

  it('starts new sagas at the version it was given, to hold them back during a rolling upgrade', async () => {
    const f = fakes();
    await new SagaService(f.engine, f.log, policy, 3).onOrderCreated(event);
    expect(f.instances.get(event.orderId)).toMatchObject({ version: 3 });
  });

  it('delivers a cancel that arrived before the saga existed once the saga is scheduled', async () => {
    const f = fakes();
    const service = new SagaService(f.engine, f.log, policy, CURRENT_SAGA_VERSION);
    await service.requestCancel(event.orderId);
    expect(f.cancels).toEqual([]);
    await service.onOrderCreated(event);
    expect(f.cancels).toEqual([event.orderId]);
  });

  it('refuses to cancel a saga that already ended', async () => {
    const f = fakes();
    const service = new SagaService(f.engine, f.log, policy, CURRENT_SAGA_VERSION);
    await service.onOrderCreated(event);
    f.sagas.set(event.orderId, { status: 'COMPLETED', cancelRequested: false });
    await expect(service.requestCancel(event.orderId)).rejects.toEqual(expect.any(AppError));
    expect(f.cancels).toEqual([]);
  });

  it('never restarts an ended saga, even when the workflow engine forgot it', async () => {
    const f = fakes();
    const start = jest.spyOn(f.engine, 'start');
    const service = new SagaService(f.engine, f.log, policy, CURRENT_SAGA_VERSION);
    f.sagas.set(event.orderId, { status: 'COMPENSATED', cancelRequested: false });
    await service.onOrderCreated(event);
    expect(start).not.toHaveBeenCalled();
  });
});
