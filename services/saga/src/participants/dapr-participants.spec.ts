import type { DaprSidecar } from '@ecom/shared';
import { createDaprParticipants, timeLeft } from './dapr-participants';

/** A sidecar that answers every invocation with `body` and records each call's timeout. */
function recordingSidecar(body: unknown) {
  const timeouts: (number | undefined)[] = [];
  const sidecar = {
    invoke: (_app: string, _method: string, _path: string, options: { timeoutMs?: number }) => {
      timeouts.push(options.timeoutMs);
      return Promise.resolve({ status: 200, body });
    },
  } as unknown as DaprSidecar;
  return { sidecar, timeouts };
}

const orderId = '6f1c1d2e-0000-4000-8000-000000000003';

describe('the Dapr participants within a step deadline', () => {
  it('gives a call the time left before the deadline, at most the invoke timeout', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(timeLeft(new Date(now + 1_200), 5_000, now)).toBe(1_200);
    expect(timeLeft(new Date(now + 60_000), 5_000, now)).toBe(5_000);
    for (const passed of [0, -1]) {
      let thrown: unknown;
      try {
        timeLeft(new Date(now + passed), 5_000, now);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toMatchObject({ kind: 'UNAVAILABLE' });
    }
  });

  it('bounds the reservation and the charge by the deadline, and sends nothing once it has passed', async () => {
    const reserved = { outcome: 'reserved', expiresAt: '2026-01-01T00:00:30Z', items: [] };
    const { sidecar, timeouts } = recordingSidecar(reserved);
    const { inventory, payment } = createDaprParticipants(sidecar, 5_000);
    await inventory.reserve(orderId, [{ sku: 's', quantity: 1 }], 30);
    await inventory.reserve(orderId, [{ sku: 's', quantity: 1 }], 30, new Date(Date.now() + 60_000));
    expect(timeouts).toEqual([5_000, 5_000]);
    await inventory.reserve(orderId, [{ sku: 's', quantity: 1 }], 30, new Date(Date.now() + 2_000));
    expect(timeouts[2]).toBeLessThanOrEqual(2_000);
    expect(timeouts[2]).toBeGreaterThan(0);

    const charge = { orderId, amount: 100, currency: 'USD', paymentToken: 'tok_visa' };
    await expect(payment.charge(charge, new Date(Date.now() - 1))).rejects.toMatchObject({
      kind: 'UNAVAILABLE',
    });
    expect(timeouts).toHaveLength(3);
  });
});
