import type { ListPosition, Order, Quote, TransitionResult } from './model';

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  newId(): string;
}

/** Current prices, from inventory. */
export interface PriceSource {
  quote(items: { sku: string; quantity: number }[]): Promise<Quote>;
}

/** The saga that runs each order; the order service only asks it to cancel. */
export interface SagaClient {
  requestCancel(orderId: string, reason: 'customer_cancelled'): Promise<void>;
}

export interface OrderStore {
  findByIdempotencyKey(customerId: string, key: string): Promise<Order | undefined>;
  /**
   * Stores a new PENDING order and its order_created event in one transaction.
   * When another order already holds the same (customer, idempotency key),
   * stores nothing and returns that order instead.
   */
  create(order: Order): Promise<{ created: true } | { created: false; existing: Order }>;
  get(orderId: string): Promise<Order | undefined>;
  listByCustomer(customerId: string, limit: number, after?: ListPosition): Promise<Order[]>;
  /**
   * Moves a PENDING order to PAID or CANCELLED (conditional update) and emits
   * order_paid / order_cancelled with it; undefined when the order does not exist.
   */
  finish(
    orderId: string,
    to: 'PAID' | 'CANCELLED',
    reason: string | null,
    now: Date,
  ): Promise<TransitionResult>;
}
