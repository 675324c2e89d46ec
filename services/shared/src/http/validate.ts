import type { z } from 'zod';
import { AppError } from '../errors/app-error';

/** Parses input at the edge; a failure becomes INVALID_DATA naming every offending field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'request'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw AppError.invalid(
    `${what} is invalid`,
    result.error.issues.map((issue) => ({
      field: issue.path.length > 0 ? issue.path.join('.') : what,
      message: issue.message,
    })),
  );
}
