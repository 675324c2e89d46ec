import { AppError, sendCommand, type DaprSidecar } from '@ecom/shared';
import type { Quote } from '../domain/model';
import type { PriceSource } from '../domain/ports';

/** Prices from inventory's quote command (the command catalogue), by Dapr service invocation; the reply is checked. */
export class DaprPriceSource implements PriceSource {
  constructor(
    private readonly sidecar: DaprSidecar,
    private readonly timeoutMs = 5_000,
  ) {}

  async quote(items: { sku: string; quantity: number }[]): Promise<Quote> {
    try {
      return await sendCommand(this.sidecar, 'quote', { items }, { timeoutMs: this.timeoutMs });
    } catch (error) {
      // Inventory's 400 (naming fields) is the client's; anything else means prices cannot be had now.
      if (error instanceof AppError && error.kind === 'INVALID_DATA') throw error;
      throw new AppError('UNAVAILABLE', 'cannot price the order: inventory is unavailable', {
        cause: error,
        retryAfterSeconds: 1,
      });
    }
  }
}
