import type { Express, Request, RequestHandler, Response } from 'express';
import type { z } from 'zod';
import type { ServiceAppId } from '../access/who-may-call';
import { authenticate, requireRole } from '../auth/authenticate';
import type { JwtVerifier } from '../auth/jwt-verifier';
import { OPENAPI_PATH, openApiDocument } from './openapi';
import { parseInput } from './validate';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call an operation: anyone, any signed-in user (a bearer access token), or an admin. */
export type Access = 'public' | 'user' | 'admin';

/**
 * Problem statuses an operation answers beyond those its declaration implies (400 for any input,
 * 401 unless public, 403 for admin, 413 for a body): a login's 401, a missing resource's 404.
 */
export type ErrorStatus = 401 | 403 | 404 | 409 | 422 | 429 | 503;

/**
 * What an operation reads from a request, each part parsed by `parseInput` with these schemas
 * (in this order: path, query, headers, body) and documented from the same schemas.
 */
export interface OperationInput {
  /** Path parameters: an object schema with one key per `:name` in the path. */
  params?: z.ZodType;
  /** Query parameters: an object schema. */
  query?: z.ZodType;
  /** Request headers by the name clients use (`Idempotency-Key`), each parsed on its own. */
  headers?: Readonly<Record<string, z.ZodType>>;
  /** The JSON body. */
  body?: z.ZodType;
}

/** One route of a service's public API, declared once: served by `serveApi`, documented by `openApiDocument`. */
export interface Operation<I extends OperationInput = OperationInput> {
  method: HttpMethod;
  /** Express-style path, relative to the service (`/orders/:id`). */
  path: string;
  summary: string;
  description?: string;
  access: Access;
  input: I;
  success: {
    status: number;
    description: string;
    /** Response headers the success carries, by name, with what they mean. */
    headers?: Readonly<Record<string, string>>;
  };
  errors?: readonly ErrorStatus[];
}

/** A service's public API: its operations by operation id, in the order they are routed. */
export interface ServiceApi<Ops extends Record<string, Operation> = Record<string, Operation>> {
  service: ServiceAppId;
  title: string;
  description: string;
  /** The document's version (`info.version`). */
  version?: string;
  operations: Ops;
}

/** Declares a service's API; the identity function that keeps each operation's schema types. */
export function defineApi<Ops extends Record<string, Operation>>(api: ServiceApi<Ops>): ServiceApi<Ops> {
  return api;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler receives: each declared part of the request, as its schema parsed it. */
export interface OperationArgs<I extends OperationInput> {
  params: I extends { params: infer S } ? Parsed<S> : Record<string, never>;
  query: I extends { query: infer S } ? Parsed<S> : Record<string, never>;
  headers: I extends { headers: infer H } ? { [K in keyof H]: Parsed<H[K]> } : Record<string, never>;
  body: I extends { body: infer S } ? Parsed<S> : undefined;
}

export type OperationHandler<O extends Operation> = (
  input: OperationArgs<O['input']>,
  req: Request,
  res: Response,
) => Promise<void> | void;

/** One handler per declared operation: a missing or extra one does not compile. */
export type OperationHandlers<Ops extends Record<string, Operation>> = {
  [K in keyof Ops]: OperationHandler<Ops[K]>;
};

/** The middleware that enforces each kind of access before an operation's input is parsed. */
export type AccessGuards = Readonly<Record<Access, readonly RequestHandler[]>>;

/** Access enforced with bearer access tokens checked by `verifier`; admin also needs the admin role. */
export function accessGuards(verifier: JwtVerifier): AccessGuards {
  const signedIn = authenticate(verifier);
  return { public: [], user: [signedIn], admin: [signedIn, requireRole('admin')] };
}

interface ParsedRequest {
  params: unknown;
  query: unknown;
  headers: Record<string, unknown>;
  body: unknown;
}

/** Parses the declared parts of a request in a fixed order, so the first problem reported is stable. */
function parseRequest(input: OperationInput, req: Request): ParsedRequest {
  const params: unknown = input.params ? parseInput(input.params, req.params, 'path') : {};
  const query: unknown = input.query ? parseInput(input.query, req.query, 'query') : {};
  const headers: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(input.headers ?? {})) {
    headers[name] = parseInput(schema, req.header(name), name);
  }
  const body: unknown = input.body ? parseInput(input.body, req.body, 'body') : undefined;
  return { params, query, headers, body };
}

/**
 * Routes every operation of `api` (access guards, then its input parsed by its schemas, then its
 * handler) and serves the API's OpenAPI document at `GET /openapi.json`. The document is built
 * here, at start-up, so a schema JSON Schema cannot express stops the service before it serves.
 */
export function serveApi<Ops extends Record<string, Operation>>(
  app: Express,
  api: ServiceApi<Ops>,
  guards: AccessGuards,
  handlers: OperationHandlers<Ops>,
): void {
  const document = openApiDocument(api);
  app.get(OPENAPI_PATH, (_req, res) => {
    res.setHeader('cache-control', 'public, max-age=300');
    res.json(document);
  });
  for (const [id, operation] of Object.entries(api.operations)) {
    // The mapped type pairs each handler with its own operation; the loop sees them all as one.
    const handle = handlers[id as keyof Ops] as unknown as (
      input: ParsedRequest,
      req: Request,
      res: Response,
    ) => unknown;
    app.route(operation.path)[operation.method](...guards[operation.access], async (req, res) => {
      await handle(parseRequest(operation.input, req), req, res);
    });
  }
}
