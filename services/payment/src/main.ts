import { randomUUID } from 'node:crypto';
import { runPostgresService } from '@ecom/shared';
import { paymentConfigSchema } from './config';
import { PaymentService } from './domain/payment-service';
import type { IdGenerator } from './domain/ports';
import { subscribeOrderOwners } from './events/order-owner-subscriber';
import { paymentRoutes } from './http/routes';
import { TestTokenProvider } from './provider/test-token-provider';
import { paymentEntities } from './store/entities';
import { PgPaymentStore } from './store/pg-payment-store';

runPostgresService({
  name: 'payment',
  configSchema: paymentConfigSchema,
  entities: paymentEntities,
  compose: ({ dataSource, relay, verifier, subscriber }) => {
    const ids: IdGenerator = { newId: () => randomUUID() };
    const payments = new PaymentService({
      store: new PgPaymentStore(dataSource, () => {
        relay.nudge();
      }),
      provider: new TestTokenProvider(ids),
      clock: { now: () => new Date() },
      ids,
    });
    subscribeOrderOwners(subscriber, payments);
    return { routes: paymentRoutes({ payments, verifier }) };
  },
});
