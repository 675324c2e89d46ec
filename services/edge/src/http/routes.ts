import {
  AppError,
  isPublicRoute,
  sidecarTimedOut,
  type DaprSidecar,
  type Logger,
  type SidecarAnswer,
} from '@ecom/shared';
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

/**
 * A path daprd could not pass on as it stands, or that a URL parser would read another way: a
 * backslash (WHATWG URL parsers, `fetch` included, read it as `/`, so `x\..\..` climbs out of the
 * route), bytes that are not UTF-8, control characters, a `%` left after decoding (daprd decodes
 * once more and fails), or an encoded `?` or `#` (daprd decodes it into the app URL's query or fragment). The client's mistake: a 400 naming the path, never forwarded.
 */
function unforwardablePath(rest: string): boolean {
  if (rest.includes('\\')) return true;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rest);
  } catch {
    return true;
  }
  for (let i = 0; i < decoded.length; i += 1) {
    const code = decoded.charCodeAt(i);
    // Control characters, DEL, `\`, `%`, and `?` or `#`, which daprd's one decoding turns into a query
    // or a fragment of the app's URL.
    if (code < 0x20 || code === 0x7f || code === 0x5c || code === 0x25 || code === 0x3f || code === 0x23) {
      return true;
    }
  }
  return false;
}

/** The path's segments decoded; undefined when one could step outside the route (`..`, an encoded `/`). */
function decodedPath(rest: string): string | undefined {
  const segments = rest.split('/').map((s) => decodeURIComponent(s));
  return segments.some((s) => s.includes('/') || s === '.' || s === '..') ? undefined : segments.join('/');
}

/**
 * A header value daprd can carry: printable ASCII and tabs. Service invocation passes headers in
 * protobuf strings, which must be valid UTF-8, and HTTP gives bytes above 0x7E no agreed charset.
 */
function carriableHeader(value: string): boolean {
  return /^[\t\u0020-\u007e]*$/.test(value);
}

function forwardedHeaders(req: Request): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of REQUEST_HEADERS) {
    const value = req.header(name);
    if (value === undefined) continue;
    if (!carriableHeader(value)) {
      throw AppError.invalid(`the ${name} header is invalid`, [
        { field: name, message: 'only printable ASCII characters are allowed' },
      ]);
    }
    headers[name] = value;
  }
  // Replaces whatever the client sent: the services count login attempts per this address.
  headers['x-forwarded-for'] = clientAddress(req);
  return headers;
}

/** The one problem for any failure of the sidecars' own: the client learns only to try again. */
function unavailable(cause?: unknown): AppError {
  return new AppError('UNAVAILABLE', 'the service is unavailable; try again', { cause });
}

function relay(answer: SidecarAnswer, res: Response): void {
  const contentType = answer.header('content-type') ?? '';
  // Every error a service answers is problem+json; any other error is the sidecars' own (the callee
  // unreachable, refused by access control): it becomes one problem, without Dapr's internals.
  if (answer.status >= 400 && !contentType.includes('problem+json')) {
    throw answer.status >= 500 ? unavailable() : AppError.notFound('no such public route');
  }
  for (const name of RESPONSE_HEADERS) {
    const value = answer.header(name);
    if (value !== undefined) res.setHeader(name, value);
  }
  res.status(answer.status).end(answer.body);
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
      if (unforwardablePath(rest)) {
        next(
          AppError.invalid('the path is invalid', [
            {
              field: 'path',
              message:
                'contains a backslash, a control character, an encoded ?, # or stray %, or bytes that are not UTF-8',
            },
          ]),
        );
        return;
      }
      const path = decodedPath(rest);
      if (path === undefined || !isPublicRoute(appId, path)) {
        next(AppError.notFound(`no public route ${req.method} /${rest} on '${appId}'`));
        return;
      }
      const queryAt = req.originalUrl.indexOf('?');
      const query = queryAt >= 0 ? req.originalUrl.slice(queryAt) : '';
      // A GET or HEAD body has no meaning (and fetch refuses to send one): it is not forwarded.
      const carriesBody = req.method !== 'GET' && req.method !== 'HEAD';
      const body =
        carriesBody && Buffer.isBuffer(req.body) && req.body.length > 0
          ? new Uint8Array(req.body)
          : undefined;
      try {
        const headers = forwardedHeaders(req);
        // A read the sidecar left unanswered goes once more (DaprSidecar.forward); a write does not.
        const answer = await deps.sidecar.forward(appId, req.method, `${rest}${query}`, {
          headers,
          body,
          timeoutMs: deps.timeoutMs,
        });
        relay(answer, res);
      } catch (error) {
        if (sidecarTimedOut(error)) {
          next(new AppError('UNAVAILABLE', `${appId} did not answer within ${deps.timeoutMs} ms`));
          return;
        }
        // No answer for another reason: clients get one plain problem, not the sidecar's address.
        const unanswered = error instanceof AppError && error.kind === 'UNAVAILABLE';
        next(unanswered ? unavailable(error) : error);
      }
    });
  };
}
