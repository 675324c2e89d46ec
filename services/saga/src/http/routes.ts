import {
  commandRoute,
  AppError,
  authenticate,
  isAdmin,
  parseInput,
  principalOf,
  requireRole,
  type JwtVerifier,
} from '@ecom/shared';
import type { Express } from 'express';
import type { SagaLog } from '../domain/saga-log';
import type { SagaService } from '../domain/saga-service';
import { listQuery, orderIdParams } from './schemas';

export interface SagaRoutesDeps {
  service: SagaService;
  log: SagaLog;
  verifier: JwtVerifier;
}

export function sagaRoutes({ service, log, verifier }: SagaRoutesDeps) {
  return (app: Express): void => {
    /** A customer's cancel, forwarded by the order service while the order is PENDING. */
    commandRoute(app, 'cancelSaga', async (_input, { orderId }) => {
      await service.requestCancel(orderId);
      return { orderId, status: 'CANCEL_REQUESTED' as const };
    });

    /** The step timeline of one order's saga: its customer or an admin. */
    app.get('/sagas/:orderId', authenticate(verifier), async (req, res) => {
      const { orderId } = parseInput(orderIdParams, req.params, 'path');
      const principal = principalOf(res);
      const saga = await log.get(orderId);
      // Someone else's saga is as absent as a missing one: no probing for order ids.
      if (!saga || (!isAdmin(principal) && saga.customerId !== principal.userId)) {
        throw AppError.notFound(`no saga for order ${orderId}`);
      }
      res.json(saga);
    });

    /** Every saga, newest first, filtered by status and keyset-paginated (admin). */
    app.get('/sagas', authenticate(verifier), requireRole('admin'), async (req, res) => {
      const query = parseInput(listQuery, req.query, 'query');
      res.json(await log.list(query));
    });
  };
}
