import { z } from 'zod';
import { AppError } from '../errors/app-error';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../errors/problem-json';
import { defineApi, type Operation } from './operation';
import {
  openApiDocument,
  openApiPath,
  problemSchema,
  type OpenApiDocument,
  type OpenApiOperation,
  type OpenApiResponse,
} from './openapi';

const line = z.strictObject({
  sku: z.string().regex(/^[A-Z]+$/),
  quantity: z.number().int().min(1).max(10),
});

const probeApi = defineApi({
  service: 'order',
  title: 'probe',
  description: 'A probe API.',
  operations: {
    listThings: {
      method: 'get',
      path: '/things',
      summary: 'List things.',
      access: 'public',
      input: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(100).default(20),
          cursor: z.string().max(10).optional(),
          status: z.enum(['OPEN', 'SHUT']),
        }),
      },
      success: { status: 200, description: 'A page.' },
    },
    changePart: {
      method: 'patch',
      path: '/things/:id/parts/:part',
      summary: 'Change a part.',
      description: 'Admins only.',
      access: 'admin',
      input: {
        params: z.object({ id: z.uuid(), part: z.string().min(1) }),
        headers: { 'Idempotency-Key': z.string().max(5).optional(), 'X-Required': z.string() },
        body: z.strictObject({ lines: z.array(line).min(1) }),
      },
      success: { status: 200, description: 'The thing.', headers: { Location: 'Where it is.' } },
      errors: [404, 409],
    },
    dropThing: {
      method: 'delete',
      path: '/things/:id',
      summary: 'Drop a thing.',
      access: 'user',
      input: { params: z.object({ id: z.uuid() }) },
      success: { status: 204, description: 'Gone.' },
    },
  },
});

function operation(document: OpenApiDocument, path: string, method: string): OpenApiOperation {
  const found = (document.paths[path] as Record<string, OpenApiOperation> | undefined)?.[method];
  if (!found) throw new Error(`no ${method} ${path} in the document`);
  return found;
}

/** Follows a local JSON pointer (`#/components/...`) inside the document. */
function resolve(document: OpenApiDocument, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`not a local reference: ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], document);
}

function references(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(references);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, item]) =>
    key === '$ref' && typeof item === 'string' ? [item] : references(item),
  );
}

function problemResponse(document: OpenApiDocument, response: unknown): OpenApiResponse {
  const ref = (response as { $ref?: string }).$ref;
  return (ref === undefined ? response : resolve(document, ref)) as OpenApiResponse;
}

describe('openApiDocument', () => {
  const document = openApiDocument(probeApi);

  it('is an OpenAPI 3.1 document addressed through the public edge', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info).toEqual({ title: 'probe', version: '0.1.0', description: 'A probe API.' });
    expect(document.servers.map((s) => s.url)).toEqual(['/v1.0/invoke/order/method']);
    expect(JSON.parse(JSON.stringify(document))).toEqual(document);
  });

  it('documents path, query and header parameters from the schemas that parse them', () => {
    expect(operation(document, '/things', 'get').parameters).toEqual([
      {
        name: 'limit',
        in: 'query',
        required: false,
        schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
      },
      { name: 'cursor', in: 'query', required: false, schema: { type: 'string', maxLength: 10 } },
      { name: 'status', in: 'query', required: true, schema: { type: 'string', enum: ['OPEN', 'SHUT'] } },
    ]);
    const change = operation(document, '/things/{id}/parts/{part}', 'patch');
    expect(change.parameters?.map((p) => [p.in, p.name, p.required])).toEqual([
      ['path', 'id', true],
      ['path', 'part', true],
      ['header', 'Idempotency-Key', false],
      ['header', 'X-Required', true],
    ]);
    expect(change.parameters?.[0]?.schema).toMatchObject({ type: 'string', format: 'uuid' });
    expect(change.parameters?.[2]?.schema).toEqual({ type: 'string', maxLength: 5 });
  });

  it('documents the body as the client sends it, without a $schema of its own', () => {
    const body = operation(document, '/things/{id}/parts/{part}', 'patch').requestBody;
    expect(body?.required).toBe(true);
    const schema = body?.content['application/json']?.schema;
    expect(schema).toEqual({
      type: 'object',
      properties: {
        lines: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            properties: {
              sku: { type: 'string', pattern: '^[A-Z]+$' },
              quantity: { type: 'integer', minimum: 1, maximum: 10 },
            },
            required: ['sku', 'quantity'],
            additionalProperties: false,
          },
        },
      },
      required: ['lines'],
      additionalProperties: false,
    });
    expect(operation(document, '/things', 'get').requestBody).toBeUndefined();
  });

  it('states who may call each operation', () => {
    expect(operation(document, '/things', 'get').security).toEqual([]);
    expect(operation(document, '/things/{id}', 'delete').security).toEqual([{ bearerAuth: [] }]);
    expect(operation(document, '/things/{id}/parts/{part}', 'patch').security).toEqual([
      { bearerAuth: ['admin'] },
    ]);
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    });
  });

  it('lists the problems each operation answers: those its declaration implies and those it names', () => {
    const statuses = (path: string, method: string) =>
      Object.keys(operation(document, path, method).responses).sort();
    expect(statuses('/things', 'get')).toEqual(['200', '400', 'default']);
    expect(statuses('/things/{id}', 'delete')).toEqual(['204', '400', '401', 'default']);
    expect(statuses('/things/{id}/parts/{part}', 'patch')).toEqual([
      '200',
      '400',
      '401',
      '403',
      '404',
      '409',
      '413',
      'default',
    ]);
    const change = operation(document, '/things/{id}/parts/{part}', 'patch');
    expect(change.responses['200']).toMatchObject({ headers: { Location: { description: 'Where it is.' } } });
    expect(operation(document, '/things/{id}', 'delete').responses['204']).toEqual({ description: 'Gone.' });
    for (const status of ['400', '401', '403', '404', '409', '413', 'default']) {
      const response = problemResponse(document, change.responses[status]);
      expect({ status, types: Object.keys(response.content ?? {}) }).toEqual({
        status,
        types: [PROBLEM_CONTENT_TYPE],
      });
    }
    const badRequest = problemResponse(document, change.responses['400']);
    const schema = resolve(document, String(badRequest.content?.[PROBLEM_CONTENT_TYPE]?.schema?.$ref));
    expect(schema).toEqual({ allOf: [{ $ref: '#/components/schemas/Problem' }, { required: ['errors'] }] });
  });

  it('describes problem details exactly as the services send them', () => {
    const invalid = toProblem(
      AppError.invalid('body is invalid', [{ field: 'lines.0.sku', message: 'bad' }]),
    );
    expect(problemSchema.parse(invalid)).toEqual(invalid);
    expect(problemSchema.safeParse(toProblem(new Error('hidden'), '/x')).success).toBe(true);
    expect(problemSchema.safeParse({ title: 'no status' }).success).toBe(false);
    expect(document.components.schemas.Problem).toMatchObject({
      type: 'object',
      required: ['type', 'title', 'status', 'detail'],
    });
  });

  it("adds the platform endpoints and the service's internal commands, marked as out of the edge's reach", () => {
    for (const path of ['/healthz', '/openapi.json']) {
      expect(operation(document, path, 'get')['x-internal']).toBeUndefined();
    }
    for (const path of ['/readyz', '/metrics'])
      expect(operation(document, path, 'get')['x-internal']).toBe(true);
    const paid = operation(document, '/internal/orders/{orderId}/paid', 'post');
    expect(paid).toMatchObject({
      operationId: 'markPaid',
      tags: ['internal'],
      security: [{ daprMtls: [] }],
      'x-internal': true,
      'x-dapr-callers': ['saga'],
    });
    expect(paid.parameters?.map((p) => p.name)).toEqual(['orderId']);
    // A command reads a missing body as {}: markCancelled needs a reason, markPaid nothing.
    expect(paid.requestBody?.required).toBe(false);
    expect(operation(document, '/internal/orders/{orderId}/cancelled', 'post').requestBody?.required).toBe(
      true,
    );
    expect(document.paths['/internal/charges']).toBeUndefined();
    const payment = openApiDocument({ ...probeApi, service: 'payment', operations: {} });
    expect(Object.keys(payment.paths)).toEqual(
      expect.arrayContaining(['/internal/charges', '/internal/refunds']),
    );
  });

  it('resolves every reference inside the document', () => {
    const refs = references(document);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs)
      expect({ ref, found: resolve(document, ref) !== undefined }).toEqual({ ref, found: true });
  });

  describe('refuses a declaration it cannot document faithfully', () => {
    const withOperation = (op: Operation) =>
      openApiDocument(defineApi({ ...probeApi, operations: { ...probeApi.operations, extra: op } }));
    const base: Operation = {
      method: 'get',
      path: '/extra/:id',
      summary: 'Extra.',
      access: 'public',
      input: { params: z.object({ id: z.string() }) },
      success: { status: 200, description: 'Yes.' },
    };

    it('accepts the base declaration', () => {
      expect(() => withOperation(base)).not.toThrow();
    });

    it('path parameters that differ from the path', () => {
      expect(() => withOperation({ ...base, input: { params: z.object({ other: z.string() }) } })).toThrow(
        /path names \{id\} but params declare \{other\}/,
      );
      expect(() => withOperation({ ...base, input: {} })).toThrow(/path names \{id\}/);
    });

    it('a route declared twice, or over a platform endpoint', () => {
      expect(() => withOperation({ ...base, path: '/things', input: {} })).toThrow(
        /GET \/things is declared twice/,
      );
      expect(() => withOperation({ ...base, path: '/healthz', input: {} })).toThrow(/declared twice/);
    });

    it('a schema JSON Schema cannot express, or one that needs references', () => {
      expect(() =>
        withOperation({ ...base, input: { ...base.input, query: z.object({ at: z.date() }) } }),
      ).toThrow(/has no JSON Schema form/);
      const tree: z.ZodType = z.object({
        name: z.string(),
        get children(): z.ZodArray<typeof tree> {
          return z.array(tree);
        },
      });
      expect(() => withOperation({ ...base, method: 'post', input: { ...base.input, body: tree } })).toThrow(
        /recursive or registered/,
      );
    });

    it('query or path parameters that are not an object', () => {
      expect(() => withOperation({ ...base, input: { ...base.input, query: z.string() } })).toThrow(
        /must be an object schema/,
      );
    });
  });
});

describe('openApiPath', () => {
  it.each([
    ['/orders/:id', '/orders/{id}'],
    ['/internal/orders/:orderId/paid', '/internal/orders/{orderId}/paid'],
    ['/products', '/products'],
    ['/a/:x/b/:y_z', '/a/{x}/b/{y_z}'],
  ])('%s is %s', (express, openApi) => {
    expect(openApiPath(express)).toBe(openApi);
  });
});
