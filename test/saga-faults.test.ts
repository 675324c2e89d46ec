import { serviceSidecarSpec } from '../stack/src/services';
import { renderLocalDapr } from '../stack/src/stack';
import { startProcess } from '../stack/src/supervisor';
import {
  crash,
  finalOrder,
  freeze,
  newCustomer,
  newProduct,
  order,
  paymentsOf,
  recover,
  sagaReaches,
  settings,
  stockCounters,
  step,
  thaw,
  type Customer,
} from './support/shop';

/** Waits until the saga has met the participant down at `stepName` at least once. */
function waitingAt(orderId: string, stepName: string) {
  return sagaReaches(
    orderId,
    (saga) => step(saga, stepName)?.detail.lastError !== undefined,
    `${stepName} retrying while its participant is down`,
  );
}

/**
 * A saga that resumes after its own crash either finishes the sale or, when the outage outlasted the
 * step deadline, compensates it; both are final and leave nothing half-done.
 */
async function expectFinishedConsistently(customer: Customer, orderId: string, sku: string): Promise<void> {
  const final = await finalOrder(customer, orderId);
  const charges = (await paymentsOf(orderId)).filter((p) => p.status === 'SUCCEEDED');
  if (final.status === 'PAID') {
    expect(charges).toHaveLength(1);
    expect(await stockCounters(sku)).toEqual({ available: 1, reserved: 0, sold: 1 });
  } else {
    expect(final.cancellationReason).toBe('deadline_exceeded');
    expect(charges).toEqual([]);
    expect(await stockCounters(sku)).toEqual({ available: 2, reserved: 0, sold: 0 });
  }
}

describe('order saga: a participant or the saga itself going down delays an order, never loses it', () => {
  let customer: Customer;

  beforeAll(async () => {
    customer = await newCustomer();
  });

  it('finishes an order whose payment service crashed mid-saga and came back', async () => {
    const product = await newProduct(2);
    crash('payment');
    try {
      const orderId = await order(customer, [{ sku: product.sku, quantity: 1 }]);
      await waitingAt(orderId, 'charge_payment');
      await recover('payment');

      expect(await finalOrder(customer, orderId)).toMatchObject({ status: 'PAID' });
      expect((await paymentsOf(orderId)).filter((p) => p.status === 'SUCCEEDED')).toHaveLength(1);
      expect(await stockCounters(product.sku)).toEqual({ available: 1, reserved: 0, sold: 1 });
    } finally {
      await recover('payment');
    }
  });

  it('gives up a charge whose payment service hangs at the step deadline, and compensates once it answers', async () => {
    const product = await newProduct(2);
    freeze('payment');
    try {
      const orderId = await order(customer, [{ sku: product.sku, quantity: 1 }]);
      // No answer and no error comes back: only the step deadline ends the wait (in version 5 the
      // activity's own, its calls cut at the deadline; no durable timer is set for it).
      await sagaReaches(
        orderId,
        (saga) => step(saga, 'charge_payment')?.status === 'TIMED_OUT',
        'the charge given up at its deadline while payment hangs',
      );
      thaw('payment');
      // The refund waited for payment; a charge that payment takes up late is refunded or refused.
      expect(await finalOrder(customer, orderId)).toMatchObject({
        status: 'CANCELLED',
        cancellationReason: 'deadline_exceeded',
      });
      expect((await paymentsOf(orderId)).filter((p) => p.status === 'SUCCEEDED')).toEqual([]);
      expect(await stockCounters(product.sku)).toEqual({ available: 2, reserved: 0, sold: 0 });
    } finally {
      thaw('payment');
    }
  });

  it('finishes an order whose inventory service crashed right after the order was placed', async () => {
    const product = await newProduct(2);
    const orderId = await order(customer, [{ sku: product.sku, quantity: 1 }]);
    crash('inventory');
    try {
      // Whichever inventory step the saga reached (reserve or commit), it now retries it.
      await sagaReaches(
        orderId,
        (saga) => saga.steps.some((s) => s.detail.lastError !== undefined),
        'an inventory step retrying while inventory is down',
      );
      await recover('inventory');
      expect(await finalOrder(customer, orderId)).toMatchObject({ status: 'PAID' });
      expect(await stockCounters(product.sku)).toEqual({ available: 1, reserved: 0, sold: 1 });
    } finally {
      await recover('inventory');
    }
  });

  it('resumes a saga after the saga service and its sidecar crash and come back', async () => {
    const product = await newProduct(2);
    crash('payment');
    try {
      const orderId = await order(customer, [{ sku: product.sku, quantity: 1 }]);
      await waitingAt(orderId, 'charge_payment');
      crash('saga');
      crash('saga-dapr');
      // Payment comes back while the saga is still down: what resumes the order is the saga's own state.
      await Promise.all([recover('payment'), recover('saga')]);
      await startProcess(serviceSidecarSpec(settings, 'saga', renderLocalDapr(settings)));

      await expectFinishedConsistently(customer, orderId, product.sku);
    } finally {
      await recover('payment');
      await recover('saga');
      await startProcess(serviceSidecarSpec(settings, 'saga', renderLocalDapr(settings)));
    }
  });

  it('resumes a saga after its sidecar alone crashes and comes back', async () => {
    const product = await newProduct(2);
    crash('payment');
    try {
      const orderId = await order(customer, [{ sku: product.sku, quantity: 1 }]);
      await waitingAt(orderId, 'charge_payment');
      crash('saga-dapr');
      await recover('payment');
      await startProcess(serviceSidecarSpec(settings, 'saga', renderLocalDapr(settings)));

      await expectFinishedConsistently(customer, orderId, product.sku);
    } finally {
      await recover('payment');
      await startProcess(serviceSidecarSpec(settings, 'saga', renderLocalDapr(settings)));
    }
  });
});
