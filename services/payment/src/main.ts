import { randomUUID } from 'node:crypto';
import { runPostgresService } from '@ecom/shared';
import { paymentConfigSchema } from './config';
import { PaymentService } from './domain/payment-service';
import type { IdGenerator } from './domain/ports';
import { paymentRoutes } from './http/routes';
import { TestTokenProvider } from './provider/test-token-provider';
import { DaprPaymentStore } from './store/dapr-payment-store';

runPostgresService({
  name: 'payment',
  configSchema: paymentConfigSchema,
  // Ledgers live in payment's Dapr state store (its own database); Dapr's outbox publishes their events.
  entities: [],
  sqlOutbox: false,
  compose: ({ verifier, daprState }) => {
    const ids: IdGenerator = { newId: () => randomUUID() };
    const payments = new PaymentService({
      store: new DaprPaymentStore(daprState('payment')),
      provider: new TestTokenProvider(ids),
      clock: { now: () => new Date() },
      ids,
    });
    return { routes: paymentRoutes({ payments, verifier }) };
  },
});
