import {
  accessGuards,
  AppError,
  commandRoute,
  isAdmin,
  principalOf,
  serveApi,
  type JwtVerifier,
} from '@ecom/shared';
import type { Express } from 'express';
import type { SagaLog } from '../domain/saga-log';
import type { SagaService } from '../domain/saga-service';
import { sagaApi } from './api';

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

    serveApi(app, sagaApi, accessGuards(verifier), {
      getSaga: async ({ params: { orderId } }, _req, res) => {
        const principal = principalOf(res);
        const saga = await log.get(orderId);
        // Someone else's saga is as absent as a missing one: no probing for order ids.
        if (!saga || (!isAdmin(principal) && saga.customerId !== principal.userId)) {
          throw AppError.notFound(`no saga for order ${orderId}`);
        }
        res.json(saga);
      },

      listSagas: async ({ query }, _req, res) => {
        res.json(await log.list(query));
      },
    });
  };
}
