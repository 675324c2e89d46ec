/** A product of the catalogue. Money is an integer in minor units plus an ISO currency. */
export interface Product {
  sku: string;
  name: string;
  price: number;
  currency: string;
  /** Units that can be reserved now. */
  available: number;
  /** Units held for orders in progress. */
  reserved: number;
  /** Units sold (committed reservations). available + reserved + sold only changes by admin adjustment. */
  sold: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewProduct {
  sku: string;
  name: string;
  price: number;
  currency: string;
  stock: number;
}

/** An admin change to a product; stock is either set (`stock`) or adjusted (`stockDelta`), on `available` only. */
export interface ProductChange {
  name?: string;
  price?: number;
  currency?: string;
  stock?: number;
  stockDelta?: number;
}

export interface Line {
  sku: string;
  quantity: number;
}

export interface Shortfall {
  sku: string;
  requested: number;
  available: number;
}

export interface QuoteLine {
  sku: string;
  name: string;
  unitPrice: number;
  currency: string;
}

export interface Quote {
  lines: QuoteLine[];
  unknownSkus: string[];
}

export type ReserveOutcome =
  /** `items`: the lines the reservation holds (the recorded ones on a repeated command), merged and in sku order. */
  | { outcome: 'reserved'; expiresAt: string; items: Line[] }
  | { outcome: 'failed'; reason: 'insufficient_stock' | 'released'; shortfalls: Shortfall[] };

export type CommitResult = 'committed' | 'missing' | 'released' | 'expired' | 'failed';

export type ReleaseOutcome = 'released' | 'not_reserved' | 'already_committed';

/**
 * RESERVED holds stock until expiresAt; COMMITTED sold it; RELEASED gave it back;
 * FAILED never held anything; VOID is the tombstone of a release that came before any reserve.
 */
export type ReservationStatus = 'RESERVED' | 'COMMITTED' | 'RELEASED' | 'FAILED' | 'VOID';

export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  items: Line[];
  expiresAt: Date | null;
  reason: string | null;
  shortfalls: Shortfall[];
  createdAt: Date;
  updatedAt: Date;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
