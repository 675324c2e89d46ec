import type { z } from 'zod';
import { ecomStackSpecSchema, type EcomStackSpec } from './ecom-stack';

export type ResolveResult = { ok: true; spec: EcomStackSpec } | { ok: false; problems: string[] };

/**
 * Reads a raw spec into a fully defaulted {@link EcomStackSpec} with the schema the CRD is
 * generated from. The API server has already applied that schema, so this is the second line:
 * for a cluster whose CRD is older than the operator, and for the tests. It collects every
 * problem, each naming its field (`spec.services.order.replicas: ...`).
 */
export function resolveSpec(raw: unknown): ResolveResult {
  const parsed = ecomStackSpecSchema.safeParse(raw ?? {});
  if (parsed.success) return { ok: true, spec: parsed.data };
  return { ok: false, problems: parsed.error.issues.flatMap(describe) };
}

function describe(issue: z.core.$ZodIssue): string[] {
  const at = (path: PropertyKey[]) =>
    path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : `${s}.${String(k)}`), 'spec');
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => `${at([...issue.path, key])}: ${issue.message}`);
    case 'invalid_value':
      return [`${at(issue.path)}: must be one of ${issue.values.map(String).join(', ')}`];
    case 'invalid_type':
      return [`${at(issue.path)}: must be ${ARTICLED[issue.expected] ?? issue.expected}`];
    case 'too_small':
    case 'too_big':
      return [`${at(issue.path)}: ${rangeOf(issue)}`];
    default:
      return [`${at(issue.path)}: ${issue.message}`];
  }
}

const ARTICLED: Partial<Record<string, string>> = {
  object: 'an object',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

/** zod says `Too big: expected number to be <=100`; a spec's reader wants the allowed range. */
function rangeOf(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
  if (issue.origin === 'number' || issue.origin === 'int')
    return `must be ${issue.code === 'too_small' ? 'at least' : 'at most'} ${String(bound)}`;
  return issue.message;
}
