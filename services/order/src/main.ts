import { randomUUID } from 'node:crypto';
import { runPostgresService } from '@ecom/shared';
import { orderConfigSchema } from './config';
import { OrderService } from './domain/order-service';
import { orderRoutes } from './http/routes';
import { DaprPriceSource } from './store/dapr-price-source';
import { DaprSagaClient } from './store/dapr-saga-client';
import { orderEntities } from './store/entities';
import { PgOrderStore } from './store/pg-order-store';

runPostgresService({
  name: 'order',
  configSchema: orderConfigSchema,
  entities: orderEntities,
  compose: ({ config, dataSource, sidecar, relay, verifier }) => {
    const orders = new OrderService({
      store: new PgOrderStore(dataSource, () => {
        relay.nudge();
      }),
      prices: new DaprPriceSource(sidecar, config.PRICE_TIMEOUT_MS),
      saga: new DaprSagaClient(sidecar),
      clock: { now: () => new Date() },
      ids: { newId: () => randomUUID() },
      sagaDeadlineMs: config.ORDER_SAGA_DEADLINE_MS,
    });
    return { routes: orderRoutes({ orders, verifier }) };
  },
});
