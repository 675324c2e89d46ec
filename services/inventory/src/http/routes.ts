import { authenticate, commandRoute, parseInput, requireRole, type JwtVerifier } from '@ecom/shared';
import type { Express } from 'express';
import type { InventoryService } from '../domain/inventory-service';
import type { Product, Reservation } from '../domain/model';
import { createProductBody, listQuery, orderIdParam, skuParam, updateProductBody } from './schemas';

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
  const admin = [authenticate(deps.verifier), requireRole('admin')];
  return (app) => {
    app.get('/products', async (req, res) => {
      const query = parseInput(listQuery, req.query, 'query');
      const page = await inventory.listProducts(query.limit, query.cursor);
      res.json({ items: page.items.map(publicProduct), nextCursor: page.nextCursor });
    });

    app.get('/products/:sku', async (req, res) => {
      const { sku } = parseInput(skuParam, req.params, 'path');
      res.json(publicProduct(await inventory.getProduct(sku)));
    });

    app.post('/products', ...admin, async (req, res) => {
      const input = parseInput(createProductBody, req.body, 'body');
      const product = await inventory.createProduct(input);
      res.status(201).location(`/products/${product.sku}`).json(adminProduct(product));
    });

    app.patch('/products/:sku', ...admin, async (req, res) => {
      const { sku } = parseInput(skuParam, req.params, 'path');
      const change = parseInput(updateProductBody, req.body, 'body');
      res.json(adminProduct(await inventory.updateProduct(sku, change)));
    });

    app.get('/reservations/:orderId', ...admin, async (req, res) => {
      const { orderId } = parseInput(orderIdParam, req.params, 'path');
      res.json(reservationView(await inventory.getReservation(orderId)));
    });

    commandRoute(app, 'quote', (input) => inventory.quote(input.items));
    commandRoute(app, 'reserveStock', (input) =>
      inventory.reserve(input.orderId, input.items, input.ttlSeconds),
    );
    commandRoute(app, 'commitStock', (_input, { orderId }) => inventory.commit(orderId));
    commandRoute(app, 'releaseStock', (input, { orderId }) => inventory.release(orderId, input.reason));
  };
}
