import type { IdGenerator, PaymentProvider, ProviderChargeResult } from '../domain/ports';

/**
 * The built-in provider: decides by test card token, like a payment sandbox.
 * `tok_visa` succeeds; `tok_chargeDeclined` and
 * `tok_chargeDeclinedInsufficientFunds` are declined; `tok_processingError`
 * fails like a provider outage; any other token is declined as unknown.
 * It remembers answers by idempotency key, as a real provider does.
 */
export class TestTokenProvider implements PaymentProvider {
  private readonly charges = new Map<string, ProviderChargeResult>();
  private readonly refunds = new Map<string, { providerRef: string }>();

  constructor(private readonly ids: IdGenerator) {}

  charge(request: { token: string; idempotencyKey: string }): Promise<ProviderChargeResult> {
    const known = this.charges.get(request.idempotencyKey);
    if (known) return Promise.resolve(known);
    const result = this.decide(request.token);
    this.charges.set(request.idempotencyKey, result);
    return Promise.resolve(result);
  }

  refund(request: { providerRef: string; idempotencyKey: string }): Promise<{ providerRef: string }> {
    const known = this.refunds.get(request.idempotencyKey);
    if (known) return Promise.resolve(known);
    const refund = { providerRef: `re_${this.ids.newId()}` };
    this.refunds.set(request.idempotencyKey, refund);
    return Promise.resolve(refund);
  }

  private decide(token: string): ProviderChargeResult {
    switch (token) {
      case 'tok_visa':
        return { kind: 'succeeded', providerRef: `ch_${this.ids.newId()}` };
      case 'tok_chargeDeclined':
        return { kind: 'declined', reason: 'card declined' };
      case 'tok_chargeDeclinedInsufficientFunds':
        return { kind: 'insufficient_funds', reason: 'insufficient funds' };
      case 'tok_processingError':
        return { kind: 'provider_error', reason: 'the payment provider failed to process the charge' };
      default:
        return { kind: 'declined', reason: 'unknown payment token' };
    }
  }
}
