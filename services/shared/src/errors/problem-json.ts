import type { ErrorKind, FieldProblem } from './app-error';
import { AppError } from './app-error';

/** RFC 9457 problem details, as every ecom-micro service returns them. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldProblem[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const statusByKind: Record<ErrorKind, number> = {
  INVALID_DATA: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

const titleByKind: Record<ErrorKind, string> = {
  INVALID_DATA: 'Invalid request',
  UNAUTHORIZED: 'Unauthorized',
  FORBIDDEN: 'Forbidden',
  NOT_FOUND: 'Not found',
  CONFLICT: 'Conflict',
  PAYLOAD_TOO_LARGE: 'Payload too large',
  RATE_LIMITED: 'Too many requests',
  UNAVAILABLE: 'Service unavailable',
  INTERNAL: 'Internal error',
};

export function statusOf(kind: ErrorKind): number {
  return statusByKind[kind];
}

export function kindOfStatus(status: number): ErrorKind {
  const match = (Object.entries(statusByKind) as [ErrorKind, number][]).find(([, s]) => s === status);
  if (match) return match[0];
  return status >= 500 ? 'UNAVAILABLE' : 'INVALID_DATA';
}

/** Maps an AppError to problem details; anything else is an opaque 500 (its cause is logged, not leaked). */
export function toProblem(error: unknown, instance?: string): ProblemDetails {
  const appError = error instanceof AppError ? error : new AppError('INTERNAL', 'unexpected error');
  const status = statusByKind[appError.kind];
  return {
    type: `https://ecom-micro.dev/problems/${appError.kind.toLowerCase().replaceAll('_', '-')}`,
    title: titleByKind[appError.kind],
    status,
    detail: appError.message,
    ...(instance ? { instance } : {}),
    ...(appError.fields.length > 0 ? { errors: appError.fields } : {}),
  };
}
