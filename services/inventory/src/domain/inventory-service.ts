import { AppError } from '@ecom/shared';
import { productCursor } from './cursor';
import { normaliseLines } from './lines';
import type {
  Line,
  NewProduct,
  Page,
  Product,
  ProductChange,
  Quote,
  ReleaseOutcome,
  Reservation,
  ReserveOutcome,
} from './model';
import type { Clock, ProductStore, ReservationStore } from './ports';

export interface InventoryServiceDeps {
  products: ProductStore;
  reservations: ReservationStore;
  clock: Clock;
}

/** The inventory's use cases; persistence and events sit behind the stores. */
/** The largest stock count a product holds (a 32-bit integer column). */
export const MAX_STOCK = 2_147_483_647;

export class InventoryService {
  constructor(private readonly deps: InventoryServiceDeps) {}

  async listProducts(limit: number, cursor?: string): Promise<Page<Product>> {
    const after = cursor === undefined ? undefined : productCursor.decode(cursor);
    const rows = await this.deps.products.list(limit + 1, after);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last ? productCursor.encode(last.sku) : null };
  }

  async getProduct(sku: string): Promise<Product> {
    const product = await this.deps.products.get(sku);
    if (!product) throw AppError.notFound(`product ${sku} does not exist`);
    return product;
  }

  async createProduct(input: NewProduct): Promise<Product> {
    const created = await this.deps.products.create(input, this.deps.clock.now());
    if (!created) throw AppError.conflict(`product ${input.sku} already exists`);
    return created;
  }

  async updateProduct(sku: string, change: ProductChange): Promise<Product> {
    const result = await this.deps.products.update(sku, change, this.deps.clock.now());
    if (result === 'missing') throw AppError.notFound(`product ${sku} does not exist`);
    if (result === 'negative_stock') throw AppError.conflict(`the stock of ${sku} cannot go below zero`);
    if (result === 'stock_too_large') {
      throw new AppError('CONFLICT', `the stock of ${sku} cannot pass ${MAX_STOCK}`, {
        fields: [{ field: 'stockDelta', message: `the stock would pass ${MAX_STOCK}` }],
      });
    }
    return result;
  }

  /** Current prices for the order service; unknown skus are named, not an error. */
  async quote(lines: readonly Line[]): Promise<Quote> {
    const skus = normaliseLines(lines).map((l) => l.sku);
    const found = await this.deps.products.prices(skus);
    const known = new Set(found.map((l) => l.sku));
    return { lines: found, unknownSkus: skus.filter((sku) => !known.has(sku)) };
  }

  async reserve(orderId: string, lines: readonly Line[], ttlSeconds: number): Promise<ReserveOutcome> {
    const now = this.deps.clock.now();
    const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
    return this.deps.reservations.reserve(orderId, normaliseLines(lines), expiresAt, now);
  }

  async commit(orderId: string): Promise<{ outcome: 'committed' }> {
    const result = await this.deps.reservations.commit(orderId, this.deps.clock.now());
    if (result === 'committed') return { outcome: 'committed' };
    if (result === 'missing') throw AppError.conflict(`order ${orderId} has no reservation to commit`);
    throw AppError.conflict(`the reservation of order ${orderId} is ${result} and cannot be committed`);
  }

  async release(orderId: string, reason: string): Promise<{ outcome: ReleaseOutcome }> {
    return { outcome: await this.deps.reservations.release(orderId, reason, this.deps.clock.now()) };
  }

  /** Releases reservations past their expiry; returns how many it released. */
  async releaseExpired(batchSize = 100): Promise<number> {
    const now = this.deps.clock.now();
    let released = 0;
    for (const orderId of await this.deps.reservations.expired(now, batchSize)) {
      const outcome = await this.deps.reservations.release(orderId, 'expired', now, now);
      if (outcome === 'released') released += 1;
    }
    return released;
  }

  async getReservation(orderId: string): Promise<Reservation> {
    const reservation = await this.deps.reservations.get(orderId);
    if (!reservation) throw AppError.notFound(`order ${orderId} has no reservation`);
    return reservation;
  }

  async seed(products: NewProduct[]): Promise<number> {
    return this.deps.products.seedIfEmpty(products, this.deps.clock.now());
  }
}
