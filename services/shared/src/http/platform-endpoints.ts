import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { DAPR_API_TOKEN_HEADER } from '../dapr/dapr-sidecar';
import { AppError } from '../errors/app-error';

/** The header Dapr's sidecar puts the app API token in, on every request it sends to its app. */
export const APP_TOKEN_HEADER = DAPR_API_TOKEN_HEADER;

/** Headers the callee's sidecar sets (replacing any the caller sent) on an invocation from another sidecar. */
const INVOCATION_HEADERS = ['dapr-caller-app-id', 'dapr-callee-app-id'] as const;

function sameSecret(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * Whether a request was delivered by the Dapr sidecar rather than sent to the app port directly.
 *
 * - With the app API token (`APP_API_TOKEN`, shared by the app and its sidecar): the sidecar sets
 *   `dapr-api-token` to it on every request it forwards, replacing whatever the caller sent, and no
 *   one else knows it. This is the only mark that also covers an invocation through the app's own
 *   sidecar, which passes the caller's headers through as they are and adds nothing else.
 * - An invocation from another sidecar also carries `dapr-caller-app-id` / `dapr-callee-app-id`, set
 *   by the callee's sidecar. Their presence marks an invocation; their absence proves nothing.
 */
export function deliveredBySidecar(req: Request, appApiToken: string | undefined): boolean {
  if (appApiToken !== undefined && carriesAppToken(req, appApiToken)) return true;
  return INVOCATION_HEADERS.some((name) => req.header(name) !== undefined);
}

/** Whether the request carries the app API token its sidecar sends. */
function carriesAppToken(req: Request, appApiToken: string): boolean {
  const token = req.header(APP_TOKEN_HEADER);
  return token !== undefined && sameSecret(token, appApiToken);
}

/**
 * Guards the platform's endpoints (/readyz, /metrics): they answer requests made to the app port
 * directly (the kubelet's probes, a metrics scraper, the local stack) and 404 to anything delivered
 * through Dapr, so whoever reaches a sidecar learns nothing about the service's dependencies or load.
 */
export function platformCallersOnly(appApiToken: string | undefined): RequestHandler {
  return (req, _res, next) => {
    next(
      deliveredBySidecar(req, appApiToken)
        ? AppError.notFound(`${req.path} is not served through Dapr; it answers on the app port only`)
        : undefined,
    );
  };
}

/**
 * Guards the service's own routes when the app has an app API token: only requests its sidecar
 * delivered (carrying the token) get through, so a process that reaches the app port directly can
 * neither call a route nor pose as another app with a `dapr-caller-app-id` header of its own.
 */
export function sidecarOnly(appApiToken: string): RequestHandler {
  return (req, _res, next) => {
    next(
      carriesAppToken(req, appApiToken)
        ? undefined
        : AppError.unauthorized(
            "this port answers the app's Dapr sidecar only; call through the public edge",
          ),
    );
  };
}
