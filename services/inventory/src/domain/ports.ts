import type {
  CommitResult,
  Line,
  NewProduct,
  Product,
  ProductChange,
  QuoteLine,
  ReleaseOutcome,
  Reservation,
  ReserveOutcome,
} from './model';

export interface Clock {
  now(): Date;
}

/** Products and their stock counters. */
export interface ProductStore {
  /** Products ordered by sku, after `afterSku` when given. */
  list(limit: number, afterSku?: string): Promise<Product[]>;
  get(sku: string): Promise<Product | undefined>;
  /** Returns undefined when the sku already exists. */
  create(product: NewProduct, now: Date): Promise<Product | undefined>;
  /**
   * Returns 'missing' for an unknown sku, 'negative_stock' when the change would drive stock below
   * zero and 'stock_too_large' when it would pass the largest count a column holds.
   */
  update(
    sku: string,
    change: ProductChange,
    now: Date,
  ): Promise<Product | 'missing' | 'negative_stock' | 'stock_too_large'>;
  prices(skus: string[]): Promise<QuoteLine[]>;
  /** Inserts the products only when the catalogue is empty; returns how many were added. */
  seedIfEmpty(products: NewProduct[], now: Date): Promise<number>;
}

/**
 * Reservations: every method changes stock and records its event atomically,
 * and is idempotent per order id.
 */
export interface ReservationStore {
  /** `lines` are merged per sku and sorted by sku (the lock order). */
  reserve(orderId: string, lines: Line[], expiresAt: Date, now: Date): Promise<ReserveOutcome>;
  commit(orderId: string, now: Date): Promise<CommitResult>;
  /** With `onlyExpiredAt`, releases only a reservation that expired by then (the sweeper). */
  release(orderId: string, reason: string, now: Date, onlyExpiredAt?: Date): Promise<ReleaseOutcome>;
  /** Order ids of reservations still held past their expiry. */
  expired(now: Date, limit: number): Promise<string[]>;
  get(orderId: string): Promise<Reservation | undefined>;
}
