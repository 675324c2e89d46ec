import { randomUUID } from 'node:crypto';
import { runPostgresService } from '@ecom/shared';
import { orderConfigSchema } from './config';
import { OrderService } from './domain/order-service';
import { orderRoutes } from './http/routes';
import { DaprOrderStore } from './store/dapr-order-store';
import { DaprPriceSource } from './store/dapr-price-source';
import { DaprSagaClient } from './store/dapr-saga-client';

runPostgresService({
  name: 'order',
  configSchema: orderConfigSchema,
  // Orders live in order's Dapr state store (its own database); Dapr's outbox publishes their events.
  entities: [],
  sqlOutbox: false,
  compose: ({ config, sidecar, verifier, daprState }) => {
    const orders = new OrderService({
      store: new DaprOrderStore(daprState('order')),
      prices: new DaprPriceSource(sidecar, config.PRICE_TIMEOUT_MS),
      saga: new DaprSagaClient(sidecar),
      clock: { now: () => new Date() },
      ids: { newId: () => randomUUID() },
      sagaDeadlineMs: config.ORDER_SAGA_DEADLINE_MS,
    });
    return { routes: orderRoutes({ orders, verifier }) };
  },
});
