import type { ListPosition, Order, OrderPage, Quote, TransitionResult } from './model';

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
  /**
   * Stores a new PENDING order and its order_created event in one transaction.
   * When an order with the same id exists already (a retry with the same
   * Idempotency-Key names the same id), stores nothing and returns that order.
   */
  create(order: Order): Promise<{ created: true } | { created: false; existing: Order }>;
  get(orderId: string): Promise<Order | undefined>;
  /** Up to `limit` of the customer's orders after `after`, newest first. */
  listByCustomer(customerId: string, limit: number, after?: ListPosition): Promise<OrderPage>;
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
