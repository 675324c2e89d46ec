import { AppError, isPublicRoute, type DaprSidecar, type Logger } from '@ecom/shared';
import type { Express, Request, Response } from 'express';

/** Clients call `/v1.0/invoke/<app-id>/method/<path>`, the path Dapr's own API gives service invocation. */
const INVOKE_PATH = /^\/v1\.0\/invoke\/([^/]+)\/method\/(.*)$/;

/** What a client may tell a service; everything else (dapr-*, X-Forwarded-*, cookies) stays here. */
const REQUEST_HEADERS = [
  'accept',
  'authorization',
  'content-type',
  'content-encoding',
  'idempotency-key',
  'traceparent',
  'tracestate',
  'user-agent',
] as const;

/** What a service's answer keeps on its way back to the client. */
const RESPONSE_HEADERS = [
  'content-type',
  'cache-control',
  'location',
  'retry-after',
  'idempotent-replayed',
  'www-authenticate',
] as const;

export interface EdgeDeps {
  sidecar: DaprSidecar;
  timeoutMs: number;
  logger: Logger;
}

/** The client's address as the edge's socket saw it (an IPv4 peer without its IPv6 mapping). */
function clientAddress(req: Request): string {
  const address = req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/** The path's segments decoded; undefined when one could step outside the route (`..`, an encoded `/`). */
function decodedPath(rest: string): string | undefined {
  const segments = rest.split('/').map((s) => decodeURIComponent(s));
  return segments.some((s) => s.includes('/') || s === '.' || s === '..') ? undefined : segments.join('/');
}

function forwardedHeaders(req: Request): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of REQUEST_HEADERS) {
    const value = req.header(name);
    if (value !== undefined) headers[name] = value;
  }
  // Replaces whatever the client sent: the services count login attempts per this address.
  headers['x-forwarded-for'] = clientAddress(req);
  return headers;
}

async function relay(answer: globalThis.Response, res: Response): Promise<void> {
  const body = Buffer.from(await answer.arrayBuffer());
  const contentType = answer.headers.get('content-type') ?? '';
  // Every error a service answers is problem+json; any other error is the sidecars' own (the callee
  // unreachable, refused by access control): it becomes one problem, without Dapr's internals.
  if (answer.status >= 400 && !contentType.includes('problem+json')) {
    throw answer.status >= 500
      ? new AppError('UNAVAILABLE', 'the service is unavailable; try again')
      : AppError.notFound('no such public route');
  }
  for (const name of RESPONSE_HEADERS) {
    const value = answer.headers.get(name);
    if (value !== null) res.setHeader(name, value);
  }
  res.status(answer.status).end(body);
}

/**
 * The edge's one route: a public route of a service, forwarded by service invocation through the
 * edge's sidecar (so the callee's sidecar sees the caller "edge", which its access-control policy
 * allows for public routes only). Anything else is 404 here, before it reaches a service.
 */
export function edgeRoutes(deps: EdgeDeps): (app: Express) => void {
  return (app) => {
    app.use(async (req, res, next) => {
      const match = INVOKE_PATH.exec(req.path);
      if (!match) {
        next();
        return;
      }
      const [, appId = '', rest = ''] = match;
      const path = decodedPath(rest);
      if (path === undefined || !isPublicRoute(appId, path)) {
        next(AppError.notFound(`no public route ${req.method} /${rest} on '${appId}'`));
        return;
      }
      const queryAt = req.originalUrl.indexOf('?');
      const query = queryAt >= 0 ? req.originalUrl.slice(queryAt) : '';
      const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? new Uint8Array(req.body) : undefined;
      try {
        const answer = await deps.sidecar.forward(appId, req.method, `${rest}${query}`, {
          headers: forwardedHeaders(req),
          body,
          timeoutMs: deps.timeoutMs,
        });
        await relay(answer, res);
      } catch (error) {
        if (error instanceof Error && error.name === 'TimeoutError') {
          next(new AppError('UNAVAILABLE', `${appId} did not answer within ${deps.timeoutMs} ms`));
          return;
        }
        next(error);
      }
    });
  };
}
