/**
 * The one error taxonomy of ecom-micro. Domain code throws these by kind; the
 * HTTP layer maps kinds to status codes in exactly one place (problem-json.ts).
 */
export type ErrorKind =
  | 'INVALID_DATA'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

/** A problem with one input field, named by its path (e.g. `items.0.quantity`). */
export interface FieldProblem {
  field: string;
  message: string;
}

export interface AppErrorOptions {
  fields?: FieldProblem[];
  cause?: unknown;
  /** Seconds a client should wait before retrying (429 / 503). */
  retryAfterSeconds?: number;
}

export class AppError extends Error {
  readonly fields: FieldProblem[];
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly kind: ErrorKind,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.fields = options.fields ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  static invalid(message: string, fields: FieldProblem[] = []): AppError {
    return new AppError('INVALID_DATA', message, { fields });
  }
  static notFound(message: string): AppError {
    return new AppError('NOT_FOUND', message);
  }
  static conflict(message: string): AppError {
    return new AppError('CONFLICT', message);
  }
  static unauthorized(message = 'authentication required'): AppError {
    return new AppError('UNAUTHORIZED', message);
  }
  static forbidden(message = 'not allowed'): AppError {
    return new AppError('FORBIDDEN', message);
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
