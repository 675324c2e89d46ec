import { accessGuards, commandRoute, serveApi, type JwtVerifier } from '@ecom/shared';
import type { Express } from 'express';
import type { InventoryService } from '../domain/inventory-service';
import type { Product, Reservation } from '../domain/model';
import { inventoryApi } from './api';

export interface InventoryRoutesDeps {
  inventory: InventoryService;
  verifier: JwtVerifier;
}

/** What anyone may see of a product. */
function publicProduct(p: Product) {
  return { sku: p.sku, name: p.name, price: p.price, currency: p.currency, available: p.available };
}

/** What an admin sees: every stock counter. */
function adminProduct(p: Product) {
  return {
    ...publicProduct(p),
    reserved: p.reserved,
    sold: p.sold,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

function reservationView(r: Reservation) {
  return { ...r, expiresAt: r.expiresAt?.toISOString() ?? null };
}

export function inventoryRoutes(deps: InventoryRoutesDeps): (app: Express) => void {
  const { inventory } = deps;
  const guards = accessGuards(deps.verifier);
  return (app) => {
    serveApi(app, inventoryApi, guards, {
      listProducts: async ({ query }, _req, res) => {
        const page = await inventory.listProducts(query.limit, query.cursor);
        res.json({ items: page.items.map(publicProduct), nextCursor: page.nextCursor });
      },

      getProduct: async ({ params }, _req, res) => {
        res.json(publicProduct(await inventory.getProduct(params.sku)));
      },

      createProduct: async ({ body }, _req, res) => {
        const product = await inventory.createProduct(body);
        res.status(201).location(`/products/${product.sku}`).json(adminProduct(product));
      },

      updateProduct: async ({ params, body }, _req, res) => {
        res.json(adminProduct(await inventory.updateProduct(params.sku, body)));
      },

      getReservation: async ({ params }, _req, res) => {
        res.json(reservationView(await inventory.getReservation(params.orderId)));
      },
    });

    commandRoute(app, 'quote', (input) => inventory.quote(input.items));
    commandRoute(app, 'reserveStock', (input) =>
      inventory.reserve(input.orderId, input.items, input.ttlSeconds),
    );
    commandRoute(app, 'commitStock', (_input, { orderId }) => inventory.commit(orderId));
    commandRoute(app, 'releaseStock', (input, { orderId }) => inventory.release(orderId, input.reason));
  };
}
