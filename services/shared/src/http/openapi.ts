import { z } from 'zod';
import { commands, type CommandName, type CommandSpec } from '../commands/catalogue';
import type { FieldProblem } from '../errors/app-error';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from '../errors/problem-json';
import type { HttpMethod, Operation, OperationInput, ServiceApi } from './operation';

/** Where every service serves its OpenAPI document (public through the edge, like /healthz). */
export const OPENAPI_PATH = '/openapi.json';

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1). */
export type JsonSchema = Record<string, unknown>;

export interface OpenApiServer {
  url: string;
  description: string;
  variables?: Record<string, { default: string; description: string }>;
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, { schema?: JsonSchema }>;
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /** Empty for anyone; `bearerAuth` with the role it needs (`admin`); `daprMtls` for internal commands. */
  security: Record<string, string[]>[];
  parameters?: OpenApiParameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, OpenApiResponse | { $ref: string }>;
  /** Where the operation is reached when not through the public edge (internal and platform routes). */
  servers?: OpenApiServer[];
  /** Not reachable through the public edge. */
  'x-internal'?: boolean;
  /** For an internal command: the only apps whose calls Dapr's access control lets through. */
  'x-dapr-callers'?: readonly string[];
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  servers: OpenApiServer[];
  tags: { name: string; description: string }[];
  paths: Record<string, Partial<Record<HttpMethod, OpenApiOperation>>>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, OpenApiResponse>;
    securitySchemes: Record<string, Record<string, unknown>>;
  };
}

const fieldProblemSchema = z.object({
  field: z.string().meta({
    description:
      'The offending part: `body`, `query`, `path`, a header, or a field path such as `items.0.quantity`.',
  }),
  message: z.string(),
}) satisfies z.ZodType<FieldProblem>;

/** RFC 9457 problem details as every service answers them (errors/problem-json.ts). */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(fieldProblemSchema).optional(),
}) satisfies z.ZodType<ProblemDetails>;

const healthSchema = z.object({ status: z.literal('ok'), service: z.string() });

/** Each problem status an operation can list, as a reusable response of the document. */
const problemResponses: Record<number, { name: string; description: string; retryAfter?: boolean }> = {
  400: {
    name: 'BadRequest',
    description:
      'The request is invalid (a path, query, header or body that its schema refuses, malformed JSON, a bogus Content-Encoding): `errors` names every offending field.',
  },
  401: {
    name: 'Unauthorized',
    description: 'No valid bearer access token: missing, malformed, expired, forged, or of an ended session.',
  },
  403: { name: 'Forbidden', description: 'The caller is known but may not do this.' },
  404: {
    name: 'NotFound',
    description:
      "No such resource, or one the caller may not see (another customer's answers like a missing one).",
  },
  409: { name: 'Conflict', description: 'The request conflicts with the current state of the resource.' },
  413: { name: 'PayloadTooLarge', description: 'The body is larger than the service reads.' },
  422: { name: 'UnprocessableContent', description: 'The request is well-formed but cannot be processed.' },
  429: { name: 'TooManyRequests', description: 'Throttled: try again after Retry-After.', retryAfter: true },
  503: {
    name: 'ServiceUnavailable',
    description: 'A dependency cannot be reached; try again (after Retry-After when given).',
    retryAfter: true,
  },
};

function problemResponse(description: string, schemaName: string, retryAfter = false): OpenApiResponse {
  return {
    description,
    ...(retryAfter
      ? {
          headers: {
            'Retry-After': {
              description: 'Seconds to wait before trying again.',
              schema: { type: 'integer' },
            },
          },
        }
      : {}),
    content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: `#/components/schemas/${schemaName}` } } },
  };
}

function responseRef(status: number): { $ref: string } {
  const known = problemResponses[status];
  if (!known) throw new Error(`no problem response for status ${status}`);
  return { $ref: `#/components/responses/${known.name}` };
}

function hasReference(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasReference);
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([key, item]) => key === '$ref' || key === '$defs' || hasReference(item));
}

/** A zod schema as JSON Schema, without `$schema` (the document sets the dialect) or nested `$defs`. */
function toJsonSchema(schema: z.ZodType, io: 'input' | 'output', where: string): JsonSchema {
  let generated: JsonSchema;
  try {
    generated = z.toJSONSchema(schema, { target: 'draft-2020-12', io });
  } catch (error) {
    throw new Error(`${where}: the schema has no JSON Schema form`, { cause: error });
  }
  // A reference inside an embedded schema would resolve against the document, not the schema.
  if (hasReference(generated)) {
    throw new Error(`${where}: recursive or registered (id) schemas are not supported in the document`);
  }
  const embedded = { ...generated };
  delete embedded.$schema;
  return embedded;
}

/** An object schema's properties as parameters in `where`. */
function objectParameters(schema: z.ZodType, where: 'path' | 'query', context: string): OpenApiParameter[] {
  const json = toJsonSchema(schema, 'input', `${context} ${where}`);
  if (json.type !== 'object') throw new Error(`${context}: ${where} parameters must be an object schema`);
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
  }));
}

const PATH_PARAMETER = /:([A-Za-z0-9_]+)/g;

/** `/orders/:id` as OpenAPI writes it: `/orders/{id}`. */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(PATH_PARAMETER, '{$1}');
}

function pathParameters(path: string, schema: z.ZodType | undefined, context: string): OpenApiParameter[] {
  const inPath = [...path.matchAll(PATH_PARAMETER)].map((m) => m[1] ?? '');
  const declared = schema ? objectParameters(schema, 'path', context) : [];
  const names = declared.map((p) => p.name);
  if ([...inPath].sort().join() !== [...names].sort().join()) {
    throw new Error(
      `${context}: the path names {${inPath.join(', ')}} but params declare {${names.join(', ')}}`,
    );
  }
  return declared;
}

function headerParameters(
  headers: Readonly<Record<string, z.ZodType>> | undefined,
  context: string,
): OpenApiParameter[] {
  return Object.entries(headers ?? {}).map(([name, schema]) => ({
    name,
    in: 'header',
    required: !schema.safeParse(undefined).success,
    schema: toJsonSchema(schema, 'input', `${context} header ${name}`),
  }));
}

function parametersOf(path: string, input: OperationInput, context: string): OpenApiParameter[] {
  return [
    ...pathParameters(path, input.params, context),
    ...(input.query ? objectParameters(input.query, 'query', context) : []),
    ...headerParameters(input.headers, context),
  ];
}

function jsonBody(schema: z.ZodType, required: boolean, context: string) {
  return {
    required,
    content: { 'application/json': { schema: toJsonSchema(schema, 'input', `${context} body`) } },
  };
}

const SECURITY_BY_ACCESS: Record<Operation['access'], Record<string, string[]>[]> = {
  public: [],
  user: [{ bearerAuth: [] }],
  // OpenAPI 3.1 lets a non-OAuth requirement name the roles it needs.
  admin: [{ bearerAuth: ['admin'] }],
};

/** The problem statuses an operation's declaration implies, and those it lists. */
function problemStatuses(operation: Operation): number[] {
  const { input } = operation;
  const statuses = new Set<number>(operation.errors ?? []);
  if (input.params || input.query || input.headers || input.body) statuses.add(400);
  if (operation.access !== 'public') statuses.add(401);
  if (operation.access === 'admin') statuses.add(403);
  if (input.body) statuses.add(413);
  return [...statuses].sort((a, b) => a - b);
}

function documentOperation(id: string, operation: Operation, tag: string): OpenApiOperation {
  const context = `${operation.method.toUpperCase()} ${operation.path} (${id})`;
  const parameters = parametersOf(operation.path, operation.input, context);
  const { success } = operation;
  const successHeaders = Object.entries(success.headers ?? {});
  return {
    operationId: id,
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    tags: [tag],
    security: SECURITY_BY_ACCESS[operation.access],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.input.body
      ? {
          requestBody: jsonBody(
            operation.input.body,
            !operation.input.body.safeParse(undefined).success,
            context,
          ),
        }
      : {}),
    responses: {
      [String(success.status)]: {
        description: success.description,
        ...(successHeaders.length > 0
          ? {
              headers: Object.fromEntries(
                successHeaders.map(([name, description]) => [
                  name,
                  { description, schema: { type: 'string' } },
                ]),
              ),
            }
          : {}),
        ...(success.status === 204 ? {} : { content: { 'application/json': {} } }),
      },
      ...Object.fromEntries(problemStatuses(operation).map((s) => [String(s), responseRef(s)])),
      default: { $ref: '#/components/responses/Problem' },
    },
  };
}

/** An internal command this service serves (commands/catalogue.ts), documented from the catalogue. */
function documentCommand(name: CommandName, spec: CommandSpec): OpenApiOperation {
  const path = `/${spec.path}`;
  const context = `POST ${path} (${name})`;
  const parameters = pathParameters(path, spec.params, context);
  return {
    operationId: name,
    summary: `Internal command ${name}, for ${spec.callers.join(', ')}`,
    description:
      'Reached by Dapr service invocation from the listed callers only (access control checks their mTLS ' +
      'identity); the public edge never forwards it. Idempotent: a repeat answers the recorded outcome.',
    tags: ['internal'],
    security: [{ daprMtls: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
    // commandRoute reads a missing body as `{}`.
    requestBody: jsonBody(spec.request, !spec.request.safeParse({}).success, context),
    responses: {
      [String(spec.status ?? 200)]: {
        description: 'The outcome (on a repeat, the recorded one).',
        content: { 'application/json': { schema: toJsonSchema(spec.reply, 'output', `${context} reply`) } },
      },
      '400': responseRef(400),
      '403': responseRef(403),
      default: { $ref: '#/components/responses/Problem' },
    },
    servers: [
      {
        url: `http://localhost:{daprHttpPort}/v1.0/invoke/${spec.callee}/method`,
        description: "The caller's own Dapr sidecar.",
        variables: {
          daprHttpPort: { default: '3500', description: "The caller's DAPR_HTTP_PORT." },
        },
      },
    ],
    'x-internal': true,
    'x-dapr-callers': spec.callers,
  };
}

const APP_PORT_SERVER: OpenApiServer = {
  url: 'http://{appHost}:{appPort}',
  description: "The app's own port, for the platform (the kubelet's probes, a metrics scraper).",
  variables: {
    appHost: { default: '127.0.0.1', description: 'APP_HOST' },
    appPort: { default: '4000', description: 'APP_PORT' },
  },
};

/** What createServiceApp and serveApi serve on every service besides its own operations. */
function platformOperations(service: string): Record<string, OpenApiOperation> {
  const platformOnly =
    'For the platform: answers calls made to the app port directly; anything delivered through Dapr gets 404.';
  return {
    '/healthz': {
      operationId: 'healthz',
      summary: 'Liveness: the process answers (nothing more is checked).',
      tags: ['platform'],
      security: [],
      responses: {
        '200': {
          description: 'Alive.',
          content: { 'application/json': { schema: toJsonSchema(healthSchema, 'output', 'healthz') } },
        },
      },
    },
    [OPENAPI_PATH]: {
      operationId: 'openApiDocument',
      summary: `This document: the ${service} service's API, generated from its schemas.`,
      tags: ['platform'],
      security: [],
      responses: { '200': { description: 'The OpenAPI 3.1 document.', content: { 'application/json': {} } } },
    },
    '/readyz': {
      operationId: 'readyz',
      summary: "Readiness: each dependency's state.",
      description: platformOnly,
      tags: ['platform'],
      security: [],
      responses: {
        '200': { description: 'Ready, or degraded (a non-critical dependency is down).' },
        '503': { description: 'A critical dependency is down, or the service is shutting down.' },
        '404': responseRef(404),
      },
      servers: [APP_PORT_SERVER],
      'x-internal': true,
    },
    '/metrics': {
      operationId: 'metrics',
      summary: 'Prometheus metrics.',
      description: platformOnly,
      tags: ['platform'],
      security: [],
      responses: {
        '200': { description: 'The metrics, in the Prometheus text format.', content: { 'text/plain': {} } },
        '404': responseRef(404),
      },
      servers: [APP_PORT_SERVER],
      'x-internal': true,
    },
  };
}

function addOperation(
  paths: OpenApiDocument['paths'],
  path: string,
  method: HttpMethod,
  operation: OpenApiOperation,
): void {
  const item = (paths[path] ??= {});
  if (item[method]) throw new Error(`${method.toUpperCase()} ${path} is declared twice`);
  item[method] = operation;
}

/**
 * The OpenAPI 3.1 document of a service: its operations (parameters and bodies from the zod
 * schemas that parse them), the internal commands it serves (from the command catalogue) and
 * the platform endpoints every service has. Errors are problem details, described once.
 */
export function openApiDocument(api: ServiceApi): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const [path, operation] of Object.entries(platformOperations(api.service))) {
    addOperation(paths, path, 'get', operation);
  }
  for (const [id, operation] of Object.entries(api.operations)) {
    addOperation(
      paths,
      openApiPath(operation.path),
      operation.method,
      documentOperation(id, operation, api.service),
    );
  }
  for (const [name, spec] of Object.entries(commands) as [CommandName, CommandSpec][]) {
    if (spec.callee === api.service)
      addOperation(paths, openApiPath(`/${spec.path}`), 'post', documentCommand(name, spec));
  }
  const ids = Object.values(paths).flatMap((item) => Object.values(item).map((o) => o.operationId));
  const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (repeated.length > 0) throw new Error(`operation ids used twice: ${repeated.join(', ')}`);

  const responses: Record<string, OpenApiResponse> = {
    Problem: problemResponse('Any other error, as problem details.', 'Problem', true),
  };
  for (const [status, response] of Object.entries(problemResponses)) {
    responses[response.name] = problemResponse(
      response.description,
      status === '400' ? 'ValidationProblem' : 'Problem',
      response.retryAfter,
    );
  }
  return {
    openapi: '3.1.0',
    info: { title: api.title, version: api.version ?? '0.1.0', description: api.description },
    servers: [
      {
        url: `/v1.0/invoke/${api.service}/method`,
        description: "Through the public edge (Dapr's service invocation path).",
      },
    ],
    tags: [
      { name: api.service, description: `The ${api.service} service's public operations.` },
      {
        name: 'platform',
        description: 'What every service serves: liveness, readiness, metrics, this document.',
      },
      { name: 'internal', description: 'Commands between services; never forwarded by the public edge.' },
    ],
    paths,
    components: {
      schemas: {
        Problem: toJsonSchema(problemSchema, 'output', 'Problem'),
        ValidationProblem: {
          allOf: [{ $ref: '#/components/schemas/Problem' }, { required: ['errors'] }],
        },
      },
      responses,
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description:
            'An access token from `POST /auth/login` of the auth service (ES256, checked against its JWKS).',
        },
        daprMtls: {
          type: 'mutualTLS',
          description: "Dapr service invocation: the callee's sidecar checks the caller's mTLS identity.",
        },
      },
    },
  };
}
