export type OrderStatus = 'PENDING' | 'PAID' | 'CANCELLED';

export interface OrderLine {
  sku: string;
  name: string;
  quantity: number;
  /** Integer minor units, as quoted by inventory when the order was placed. */
  unitPrice: number;
}

export interface Order {
  orderId: string;
  customerId: string;
  status: OrderStatus;
  items: OrderLine[];
  total: number;
  currency: string;
  /** The provider token the customer paid with; never returned to clients. */
  paymentToken: string;
  cancellationReason: string | null;
  idempotencyKey: string | null;
  /** Fingerprint of the request that created the order, to tell a retry from a reused key. */
  requestHash: string | null;
  deadline: Date;
  createdAt: Date;
  updatedAt: Date;
}

export interface PlaceOrderRequest {
  items: { sku: string; quantity: number }[];
  paymentToken: string;
}

export interface Quote {
  lines: { sku: string; name: string; unitPrice: number; currency: string }[];
  unknownSkus: string[];
}

/** Who is calling: the verified token's subject, and whether they are an admin. */
export interface Viewer {
  userId: string;
  admin: boolean;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Where a listing page resumes: orders are listed newest first, ties broken by id. */
export interface ListPosition {
  createdAt: Date;
  orderId: string;
  /**
   * How many of the customer's orders, newest first, came before this position when the page
   * was read: where a store that pages by offset (Dapr's state query) starts looking. Orders
   * placed since only push the position further down, and the store skips what it showed already.
   */
  offset: number;
}

/** One page of a customer's orders, and where the next one starts (null on the last page). */
export interface OrderPage {
  orders: Order[];
  next: ListPosition | null;
}

/** The result of asking for a final status: the order, and whether this call changed it. */
export type TransitionResult = { order: Order; changed: boolean } | undefined;
