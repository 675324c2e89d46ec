import {
  call,
  crash,
  finalOrder,
  newCustomer,
  newProduct,
  order,
  paymentsOf,
  recover,
  reservationOf,
  sagaOf,
  sagaReaches,
  stockCounters,
  step,
  type Customer,
} from './support/shop';

describe('order saga: failures and cancels compensate in reverse', () => {
  let customer: Customer;

  beforeAll(async () => {
    customer = await newCustomer();
  });

  it('cancels an order it cannot stock without charging', async () => {
    const product = await newProduct(1);
    const orderId = await order(customer, [{ sku: product.sku, quantity: 2 }]);

    const cancelled = await finalOrder(customer, orderId);

    expect(cancelled).toMatchObject({ status: 'CANCELLED', cancellationReason: 'insufficient_stock' });
    expect(await paymentsOf(orderId)).toEqual([]);
    expect(await stockCounters(product.sku)).toEqual({ available: 1, reserved: 0, sold: 0 });
    const saga = (await sagaOf(orderId)).body;
    expect(saga).toMatchObject({ status: 'COMPENSATED', reason: 'insufficient_stock' });
    expect(step(saga, 'charge_payment')).toBeUndefined();
    expect(step(saga, 'reserve_stock')?.status).toBe('FAILED');
  });

  it('releases the stock of a declined card', async () => {
    const product = await newProduct(3);
    const orderId = await order(customer, [{ sku: product.sku, quantity: 2 }], 'tok_chargeDeclined');

    const cancelled = await finalOrder(customer, orderId);

    expect(cancelled).toMatchObject({ status: 'CANCELLED', cancellationReason: 'payment_declined' });
    expect(await stockCounters(product.sku)).toEqual({ available: 3, reserved: 0, sold: 0 });
    expect(await reservationOf(orderId)).toMatchObject({ status: 'RELEASED' });
    const payments = await paymentsOf(orderId);
    expect(payments.filter((p) => p.status === 'SUCCEEDED')).toEqual([]);
    const saga = (await sagaOf(orderId)).body;
    expect(saga.steps.map((s) => s.name)).toEqual([
      'reserve_stock',
      'charge_payment',
      'refund_payment',
      'release_stock',
      'mark_cancelled',
    ]);
  });

  it('compensates a provider error and leaves no charge standing', async () => {
    const product = await newProduct(2);
    const orderId = await order(customer, [{ sku: product.sku, quantity: 1 }], 'tok_processingError');

    const cancelled = await finalOrder(customer, orderId);

    expect(cancelled).toMatchObject({ status: 'CANCELLED', cancellationReason: 'payment_failed' });
    expect(await stockCounters(product.sku)).toEqual({ available: 2, reserved: 0, sold: 0 });
    expect((await paymentsOf(orderId)).filter((p) => p.status === 'SUCCEEDED')).toEqual([]);
    expect((await sagaOf(orderId)).body).toMatchObject({ status: 'COMPENSATED', reason: 'payment_failed' });
  });

  it('cancels on the customer’s request while the saga waits for payment, and a late charge cannot land', async () => {
    const product = await newProduct(2);
    crash('payment');
    try {
      const orderId = await order(customer, [{ sku: product.sku, quantity: 1 }]);
      // The saga holds the stock and keeps retrying the charge while payment is down.
      await sagaReaches(
        orderId,
        (saga) => step(saga, 'charge_payment')?.detail.lastError !== undefined,
        'charge retrying while payment is down',
      );
      expect(await stockCounters(product.sku)).toEqual({ available: 1, reserved: 1, sold: 0 });

      const cancel = await call('order', 'POST', `/orders/${orderId}/cancel`, { token: customer.token });
      expect(cancel.status).toBe(202);
      // The refund must reach payment before the order can end: the saga waits in compensation.
      await sagaReaches(orderId, (saga) => saga.status === 'COMPENSATING', 'compensating');
      await recover('payment');

      const cancelled = await finalOrder(customer, orderId);
      expect(cancelled).toMatchObject({ status: 'CANCELLED', cancellationReason: 'customer_cancelled' });
      expect(await stockCounters(product.sku)).toEqual({ available: 2, reserved: 0, sold: 0 });
      expect((await paymentsOf(orderId)).filter((p) => p.status === 'SUCCEEDED')).toEqual([]);
      const saga = (await sagaOf(orderId)).body;
      expect(saga).toMatchObject({ status: 'COMPENSATED', reason: 'customer_cancelled' });
      expect(step(saga, 'charge_payment')?.status).toBe('CANCELLED');
      expect(
        (await call('order', 'POST', `/orders/${orderId}/cancel`, { token: customer.token })).status,
      ).toBe(409);
    } finally {
      await recover('payment');
    }
  });

  it('ends a cancel sent right after the order either CANCELLED by the customer or PAID and no longer cancellable', async () => {
    const product = await newProduct(1);
    const orderId = await order(customer, [{ sku: product.sku, quantity: 1 }]);
    const cancel = await call('order', 'POST', `/orders/${orderId}/cancel`, { token: customer.token });

    const final = await finalOrder(customer, orderId);

    if (final.status === 'PAID') {
      expect(cancel.status === 409 || cancel.status === 202).toBe(true);
      expect(await stockCounters(product.sku)).toEqual({ available: 0, reserved: 0, sold: 1 });
      expect((await paymentsOf(orderId)).filter((p) => p.status === 'SUCCEEDED')).toHaveLength(1);
    } else {
      expect(cancel.status).toBe(202);
      expect(final.cancellationReason).toBe('customer_cancelled');
      expect(await stockCounters(product.sku)).toEqual({ available: 1, reserved: 0, sold: 0 });
      expect((await paymentsOf(orderId)).filter((p) => p.status === 'SUCCEEDED')).toEqual([]);
    }
  });
});
