import type { FieldProblem } from '../errors/app-error';

const NUL = '\u0000';
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a string cannot be stored as given, or undefined when it can. PostgreSQL text and the
 * MongoDB layer refuse NUL (the request would fail as a 500 deep in a store), and a lone
 * surrogate is not Unicode: every store would silently replace it with U+FFFD.
 */
export function unstorableReason(text: string): string | undefined {
  if (text.includes(NUL)) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(text)) return 'must be well-formed Unicode (no lone surrogates)';
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

interface Visit {
  value: unknown;
  key: string | number | undefined;
  parent: Visit | undefined;
}

function fieldOf(visit: Visit, root: string): string {
  const path: (string | number)[] = [];
  for (let at: Visit | undefined = visit; at?.key !== undefined; at = at.parent) path.push(at.key);
  return path.length > 0 ? path.reverse().join('.') : root;
}

/**
 * Every string (and object key) in plain objects and arrays that cannot be stored, in document
 * order, named by its path (`addresses.0.line1`), or `root` for a bare string. Iterative, and
 * paths are built only for a problem, so no nesting a parser accepted can overflow the stack.
 */
export function unstorableText(value: unknown, root: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const pending: Visit[] = [{ value, key: undefined, parent: undefined }];
  for (let visit = pending.pop(); visit !== undefined; visit = pending.pop()) {
    const current = visit.value;
    const children: Visit[] = [];
    const keyReason = typeof visit.key === 'string' ? unstorableReason(visit.key) : undefined;
    if (keyReason) problems.push({ field: fieldOf(visit, root), message: `name ${keyReason}` });
    if (typeof current === 'string') {
      const reason = unstorableReason(current);
      if (reason) problems.push({ field: fieldOf(visit, root), message: reason });
    } else if (Array.isArray(current)) {
      current.forEach((item: unknown, index) => children.push({ value: item, key: index, parent: visit }));
    } else if (isPlainObject(current)) {
      for (const [key, item] of Object.entries(current)) children.push({ value: item, key, parent: visit });
    }
    for (const child of children.reverse()) pending.push(child);
  }
  return problems;
}
