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

/** Why a wait for an order's status ended. */
export type WaitEnd = 'changed' | 'timeout' | 'aborted' | 'closing';

/** One wait for one order's status to change, registered before the order is read. */
export interface StatusWatch {
  /**
   * Resolves once: 'changed' when the order's status may have changed (also when the watch was woken
   * before this call), 'timeout' after `ms`, 'aborted' when `signal` aborts (the client left), or
   * 'closing' when the service shuts down.
   */
  next(ms: number, signal?: AbortSignal): Promise<WaitEnd>;
  /** Stops watching; call it whatever happened (idempotent). */
  close(): void;
}

/**
 * Status changes as every replica of the order service sees them: a replica that moves an order
 * announces it, and the waits of every replica on that order wake, so a client's long-poll ends
 * whichever replica it reached.
 */
export interface StatusChanges {
  /**
   * Tells every replica that the order's status changed, after the change is stored. Never
   * rejects: a lost announcement only makes waiters answer at their deadline, with a fresh read.
   */
  announce(orderId: string): Promise<void>;
  watch(orderId: string): StatusWatch;
}
