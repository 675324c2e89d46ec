import { accessGuards, commandRoute, isAdmin, principalOf, serveApi, type JwtVerifier } from '@ecom/shared';
import type { Express } from 'express';
import type { Payment } from '../domain/model';
import type { PaymentService } from '../domain/payment-service';
import { paymentApi } from './api';

export interface PaymentRoutesDeps {
  payments: PaymentService;
  verifier: JwtVerifier;
}

/** A payment as its customer sees it: no provider references. */
function paymentView(p: Payment) {
  return {
    paymentId: p.paymentId,
    orderId: p.orderId,
    status: p.status,
    amount: p.amount,
    currency: p.currency,
    reason: p.reason,
    createdAt: p.createdAt.toISOString(),
    refund: p.refund && {
      refundId: p.refund.refundId,
      amount: p.refund.amount,
      currency: p.refund.currency,
      reason: p.refund.reason,
      createdAt: p.refund.createdAt.toISOString(),
    },
  };
}

export function paymentRoutes(deps: PaymentRoutesDeps): (app: Express) => void {
  const { payments } = deps;
  return (app) => {
    serveApi(app, paymentApi, accessGuards(deps.verifier), {
      listPayments: async ({ query }, _req, res) => {
        const principal = principalOf(res);
        const list = await payments.paymentsOf(query.orderId, {
          userId: principal.userId,
          admin: isAdmin(principal),
        });
        res.json({ items: list.map(paymentView) });
      },
    });

    commandRoute(app, 'charge', (command) => payments.charge(command));
    commandRoute(app, 'refund', (input) => payments.refund(input.orderId, input.reason));
  };
}
