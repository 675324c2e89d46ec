import { z } from 'zod';

/** A CEL rule as the apiextensions API takes it (`x-kubernetes-validations`). */
export interface CelRule {
  rule: string;
  message: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  fieldPath?: string;
}

/** An OpenAPI v3 schema node, as the apiextensions API takes it. */
export interface Schema {
  type?: 'object' | 'string' | 'integer' | 'boolean' | 'array' | 'number';
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
  required?: string[];
  default?: unknown;
  enum?: string[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: CelRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

/**
 * One rule about a value, said twice in one place: in CEL for the API server (which then refuses
 * bad input at `kubectl apply`) and as a predicate for the operator's own parse (a cluster may
 * run an older CRD, and unit specs have no API server). `path` points at the field to blame.
 */
export interface Rule<T> {
  cel: string;
  message: string;
  reason?: CelRule['reason'];
  holds: (value: T) => boolean;
  path?: string[];
}

/** Attaches rules to a schema: checked by its parse, published in its CRD schema. */
export function withRules<S extends z.ZodType>(schema: S, rules: Rule<z.output<S>>[]): S {
  const checked = schema.superRefine((value, ctx) => {
    for (const r of rules) {
      if (!r.holds(value)) ctx.addIssue({ code: 'custom', message: r.message, path: r.path ?? [] });
    }
  });
  const validations: CelRule[] = rules.map((r) => ({
    rule: r.cel,
    message: r.message,
    ...(r.reason === undefined ? {} : { reason: r.reason }),
    ...(r.path === undefined ? {} : { fieldPath: `.${r.path.join('.')}` }),
  }));
  return checked.meta({ 'x-kubernetes-validations': validations });
}

/** The Kubernetes extensions a zod schema may carry in its metadata (`.meta({...})`). */
const K8S_KEYS = [
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
] as const;

/** What zod's OpenAPI 3.0 output may hold that a structural schema may too. */
const KEPT_KEYS = [
  'type',
  'description',
  'required',
  'default',
  'enum',
  'pattern',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'format',
  ...K8S_KEYS,
] as const;

type JsonNode = Record<string, unknown>;

/**
 * The CRD's structural schema of a zod schema: zod's JSON Schema of what the schema accepts
 * (`io: 'input'`, so defaulted fields are optional and carry their default), narrowed to what
 * the apiextensions API allows. Anything it cannot express fails here rather than at install.
 */
export function structuralSchema(schema: z.ZodType): Schema {
  return narrow(z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }), '');
}

function narrow(node: JsonNode, path: string): Schema {
  const out: Record<string, unknown> = {};
  for (const key of KEPT_KEYS) if (node[key] !== undefined) out[key] = node[key];
  if (node.anyOf !== undefined) {
    // Quantities: a number or a string with a pattern, which Kubernetes spells int-or-string.
    const branches = node.anyOf as JsonNode[];
    if (node['x-kubernetes-int-or-string'] !== true)
      throw new Error(`${path || '.'}: anyOf is not structural`);
    const text = branches.find((b) => b.type === 'string');
    if (typeof text?.pattern === 'string') out.pattern = text.pattern;
  }
  const properties = node.properties as Record<string, JsonNode> | undefined;
  if (properties !== undefined)
    out.properties = Object.fromEntries(
      Object.entries(properties).map(([k, v]) => [k, narrow(v, `${path}.${k}`)]),
    );
  // A map's values; `additionalProperties: false` (a strict object) has no structural form:
  // the API server prunes unknown fields instead. Map keys (`propertyNames`) have none either.
  const values = node.additionalProperties;
  if (typeof values === 'object' && values !== null)
    out.additionalProperties = narrow(values as JsonNode, `${path}{}`);
  if (node.items !== undefined) out.items = narrow(node.items as JsonNode, `${path}[]`);
  for (const key of Object.keys(node)) {
    if (['$ref', '$defs', 'oneOf', 'allOf', 'not', 'nullable'].includes(key))
      throw new Error(`${path || '.'}: ${key} is not structural`);
  }
  return out;
}
