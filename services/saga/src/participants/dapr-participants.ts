import { AppError, sendCommand, type DaprSidecar } from '@ecom/shared';
import type { InventoryPort, OrderPort, PaymentPort } from '../domain/participants';

/**
 * The saga's participants reached by Dapr service invocation, through the command catalogue
 * (@ecom/shared commands): its paths, bodies and replies, checked on the way back. Every command is
 * keyed by the order id.
 */
export function createDaprParticipants(
  sidecar: DaprSidecar,
  timeoutMs: number,
): { inventory: InventoryPort; payment: PaymentPort; order: OrderPort } {
  const options = (orderId?: string, until?: Date) => ({
    timeoutMs: until === undefined ? timeoutMs : timeLeft(until, timeoutMs),
    ...(orderId === undefined ? {} : { orderId }),
  });

  const inventory: InventoryPort = {
    // async: a deadline already passed rejects, as a failed call does, rather than throwing.
    async reserve(orderId, items, ttlSeconds, until) {
      return sendCommand(sidecar, 'reserveStock', { orderId, items, ttlSeconds }, options(undefined, until));
    },
    async commit(orderId) {
      await sendCommand(sidecar, 'commitStock', {}, options(orderId));
    },
    release: (orderId, reason) => sendCommand(sidecar, 'releaseStock', { reason }, options(orderId)),
  };
  const payment: PaymentPort = {
    // The command's fields only: an activity's input also carries its trace and deadline.
    async charge({ orderId, customerId, amount, currency, paymentToken }, until) {
      const body = {
        orderId,
        amount,
        currency,
        paymentToken,
        ...(customerId === undefined ? {} : { customerId }),
      };
      return sendCommand(sidecar, 'charge', body, options(undefined, until));
    },
    refund: (orderId, reason) => sendCommand(sidecar, 'refund', { orderId, reason }, options()),
  };
  const order: OrderPort = {
    async markPaid(orderId) {
      await sendCommand(sidecar, 'markPaid', {}, options(orderId));
    },
    async markCancelled(orderId, reason) {
      await sendCommand(sidecar, 'markCancelled', { reason }, options(orderId));
    },
  };
  return { inventory, payment, order };
}

/** A call's timeout within a step's deadline: the time left, at most `timeoutMs`; none left fails. */
export function timeLeft(until: Date, timeoutMs: number, now = Date.now()): number {
  const left = until.getTime() - now;
  if (left <= 0) throw new AppError('UNAVAILABLE', `the step's deadline ${until.toISOString()} has passed`);
  return Math.min(timeoutMs, left);
}
