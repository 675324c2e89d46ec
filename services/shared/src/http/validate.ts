import type { z } from 'zod';
import { AppError } from '../errors/app-error';
import { unstorableText } from './storable-text';

/**
 * Parses input at the edge; a failure becomes INVALID_DATA naming every offending field.
 * Every string the schema lets through must also be storable text (no NUL, no lone
 * surrogate): this is the one place body, query, path and header values pass, so no store
 * ever sees a value it would refuse with a 500.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'request'): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    throw AppError.invalid(
      `${what} is invalid`,
      result.error.issues.map((issue) => ({
        field: issue.path.length > 0 ? issue.path.join('.') : what,
        message: issue.message,
      })),
    );
  }
  const unstorable = unstorableText(result.data, what);
  if (unstorable.length > 0) throw AppError.invalid(`${what} is invalid`, unstorable);
  return result.data;
}
