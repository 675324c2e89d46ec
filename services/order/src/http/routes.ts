import {
  accessGuards,
  annotateContext,
  commandRoute,
  isAdmin,
  principalOf,
  serveApi,
  type JwtVerifier,
} from '@ecom/shared';
import type { Express, Response } from 'express';
import type { Order, Viewer } from '../domain/model';
import type { OrderService } from '../domain/order-service';
import { orderApi } from './api';

export interface OrderRoutesDeps {
  orders: OrderService;
  verifier: JwtVerifier;
}

function viewerOf(res: Response): Viewer {
  const principal = principalOf(res);
  return { userId: principal.userId, admin: isAdmin(principal) };
}

/**
 * Aborts when the response closes: once it is sent, or when the client hangs up first (then a
 * long-poll stops waiting for nobody).
 */
function gone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    controller.abort();
  });
  return controller.signal;
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
  const guards = accessGuards(deps.verifier);
  return (app) => {
    serveApi(app, orderApi, guards, {
      placeOrder: async ({ headers, body }, _req, res) => {
        const request = { items: body.items, paymentToken: body.paymentMethod.token };
        const { order, replayed } = await orders.place(
          principalOf(res).userId,
          request,
          headers['Idempotency-Key'],
        );
        annotateContext({ orderId: order.orderId });
        if (replayed) res.setHeader('Idempotent-Replayed', 'true');
        res
          .status(202)
          .location(`/orders/${order.orderId}`)
          .json({ orderId: order.orderId, status: order.status });
      },

      listOrders: async ({ query }, _req, res) => {
        const page = await orders.list(viewerOf(res), query.limit, query.cursor);
        res.json({ items: page.items.map(orderView), nextCursor: page.nextCursor });
      },

      getOrder: async ({ params, query }, _req, res) => {
        annotateContext({ orderId: params.id });
        const order =
          query.waitSeconds === 0
            ? await orders.get(params.id, viewerOf(res))
            : await orders.waitUntilFinal(params.id, viewerOf(res), query.waitSeconds * 1000, gone(res));
        res.json(orderView(order));
      },

      cancelOrder: async ({ params }, _req, res) => {
        annotateContext({ orderId: params.id });
        const order = await orders.requestCancel(params.id, viewerOf(res));
        res.status(202).json({ orderId: order.orderId, status: order.status, cancellation: 'requested' });
      },
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
