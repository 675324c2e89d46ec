import { runPostgresService } from '@ecom/shared';
import { inventoryConfigSchema } from './config';
import { demoCatalogue } from './domain/demo-catalogue';
import { InventoryService } from './domain/inventory-service';
import { inventoryRoutes } from './http/routes';
import { inventoryEntities } from './store/entities';
import { inventoryMigrations } from './store/migrations';
import { PgProductStore } from './store/pg-product-store';
import { PgReservationStore } from './store/pg-reservation-store';

runPostgresService({
  name: 'inventory',
  configSchema: inventoryConfigSchema,
  entities: inventoryEntities,
  migrations: inventoryMigrations,
  compose: ({ config, logger, dataSource, relay, verifier }) => {
    const inventory = new InventoryService({
      products: new PgProductStore(dataSource),
      reservations: new PgReservationStore(dataSource, () => {
        relay.nudge();
      }),
      clock: { now: () => new Date() },
    });

    // Gives back stock held past its expiry: the safety net behind the saga's own compensation.
    let sweeper: NodeJS.Timeout | undefined;
    let sweeping = false;
    const sweep = () => {
      if (sweeping) return;
      sweeping = true;
      inventory
        .releaseExpired()
        .then((released) => {
          if (released > 0) logger.info({ released }, 'released expired reservations');
        })
        .catch((error: unknown) => {
          logger.warn({ err: error }, 'releasing expired reservations failed; will retry');
        })
        .finally(() => {
          sweeping = false;
        });
    };

    return {
      routes: inventoryRoutes({ inventory, verifier }),
      onStart: async () => {
        if (config.SEED_DEMO_CATALOGUE) {
          const seeded = await inventory.seed(demoCatalogue);
          if (seeded > 0) logger.info({ products: seeded }, 'seeded the demo catalogue');
        }
        sweeper = setInterval(sweep, config.RESERVATION_SWEEP_MS);
        sweeper.unref();
      },
      onShutdown: () => {
        clearInterval(sweeper);
        return Promise.resolve();
      },
    };
  },
});
