import {
  commandRoute,
  annotateContext,
  authenticate,
  isAdmin,
  parseInput,
  principalOf,
  type JwtVerifier,
} from '@ecom/shared';
import type { Express, Response } from 'express';
import type { Order, Viewer } from '../domain/model';
import type { OrderService } from '../domain/order-service';
import { idempotencyKeyHeader, listQuery, orderIdParam, placeOrderBody } from './schemas';

export interface OrderRoutesDeps {
  orders: OrderService;
  verifier: JwtVerifier;
}

function viewerOf(res: Response): Viewer {
  const principal = principalOf(res);
  return { userId: principal.userId, admin: isAdmin(principal) };
}

/** An order as its customer sees it (never the payment token). */
export function orderView(o: Order) {
  return {
    orderId: o.orderId,
    customerId: o.customerId,
    status: o.status,
    items: o.items,
    total: o.total,
    currency: o.currency,
    ...(o.cancellationReason !== null ? { cancellationReason: o.cancellationReason } : {}),
    createdAt: o.createdAt.toISOString(),
    updatedAt: o.updatedAt.toISOString(),
  };
}

export function orderRoutes(deps: OrderRoutesDeps): (app: Express) => void {
  const { orders } = deps;
  const auth = authenticate(deps.verifier);
  return (app) => {
    app.post('/orders', auth, async (req, res) => {
      const key = parseInput(idempotencyKeyHeader, req.header('idempotency-key'), 'Idempotency-Key');
      const body = parseInput(placeOrderBody, req.body, 'body');
      const request = { items: body.items, paymentToken: body.paymentMethod.token };
      const { order, replayed } = await orders.place(principalOf(res).userId, request, key);
      annotateContext({ orderId: order.orderId });
      if (replayed) res.setHeader('Idempotent-Replayed', 'true');
      res
        .status(202)
        .location(`/orders/${order.orderId}`)
        .json({ orderId: order.orderId, status: order.status });
    });

    app.get('/orders', auth, async (req, res) => {
      const query = parseInput(listQuery, req.query, 'query');
      const page = await orders.list(viewerOf(res), query.limit, query.cursor);
      res.json({ items: page.items.map(orderView), nextCursor: page.nextCursor });
    });

    app.get('/orders/:id', auth, async (req, res) => {
      const { id } = parseInput(orderIdParam, req.params, 'path');
      annotateContext({ orderId: id });
      res.json(orderView(await orders.get(id, viewerOf(res))));
    });

    app.post('/orders/:id/cancel', auth, async (req, res) => {
      const { id } = parseInput(orderIdParam, req.params, 'path');
      annotateContext({ orderId: id });
      const order = await orders.requestCancel(id, viewerOf(res));
      res.status(202).json({ orderId: order.orderId, status: order.status, cancellation: 'requested' });
    });

    commandRoute(app, 'markPaid', async (_input, { orderId }) => {
      const order = await orders.markPaid(orderId);
      return { orderId, status: order.status };
    });

    commandRoute(app, 'markCancelled', async (input, { orderId }) => {
      const order = await orders.markCancelled(orderId, input.reason);
      return { orderId, status: order.status, cancellationReason: order.cancellationReason };
    });
  };
}
