import { sendCommand, type DaprSidecar } from '@ecom/shared';
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
  const options = (orderId?: string) => ({ timeoutMs, ...(orderId === undefined ? {} : { orderId }) });

  const inventory: InventoryPort = {
    reserve: (orderId, items, ttlSeconds) =>
      sendCommand(sidecar, 'reserveStock', { orderId, items, ttlSeconds }, options()),
    async commit(orderId) {
      await sendCommand(sidecar, 'commitStock', {}, options(orderId));
    },
    release: (orderId, reason) => sendCommand(sidecar, 'releaseStock', { reason }, options(orderId)),
  };
  const payment: PaymentPort = {
    charge: (command) => sendCommand(sidecar, 'charge', command, options()),
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
