import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors/app-error';
import { kindOfStatus } from '../errors/problem-json';

/**
 * Refuses a path that is not percent-encoded UTF-8 (`/orders/%FF%FE`, an encoded lone
 * surrogate `%ED%A0%80`) before any route sees it. Express would fail to decode the route
 * parameter with a bare URIError; here the client learns which part of its request is wrong.
 */
export function rejectUndecodablePath(req: Request, _res: Response, next: NextFunction): void {
  try {
    decodeURIComponent(req.path);
  } catch {
    next(
      AppError.invalid('request path is invalid', [
        { field: 'path', message: 'not valid percent-encoded UTF-8' },
      ]),
    );
    return;
  }
  next();
}

function statusOfError(error: object): number | undefined {
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

function declaresContentEncoding(req: Request): boolean {
  const encoding = req.header('content-encoding')?.trim().toLowerCase();
  return encoding !== undefined && encoding !== '' && encoding !== 'identity';
}

/**
 * Turns what the framework throws about a bad request (body-parser's and the router's
 * http-errors, which carry a 4xx status) into the taxonomy, so a client's mistake is a 4xx
 * problem and never the opaque 500 of an unknown error. Anything else passes unchanged.
 */
export function translateClientError(error: unknown, req: Request): unknown {
  if (error instanceof AppError || typeof error !== 'object' || error === null) return error;
  const type = (error as { type?: unknown }).type;
  if (type === 'entity.too.large') return new AppError('PAYLOAD_TOO_LARGE', 'request body is too large');
  if (type === 'entity.parse.failed')
    return AppError.invalid('request body is not valid JSON', [{ field: 'body', message: 'malformed JSON' }]);
  if (type === 'encoding.unsupported')
    return AppError.invalid('unsupported body encoding', [
      { field: 'content-encoding', message: 'not an encoding this service reads' },
    ]);
  if (type === 'charset.unsupported')
    return AppError.invalid('unsupported body charset', [
      { field: 'content-type', message: 'not a charset this service reads' },
    ]);
  const status = statusOfError(error);
  if (status === undefined || status < 400 || status > 499) return error;
  if (error instanceof URIError)
    return AppError.invalid('request path is invalid', [
      { field: 'path', message: 'not valid percent-encoded UTF-8' },
    ]);
  // body-parser reports a body that does not inflate (gzip, deflate, br) as its stream's error with a 400.
  if (declaresContentEncoding(req))
    return AppError.invalid('request body does not match its Content-Encoding', [
      { field: 'body', message: 'could not be decoded as the content-encoding header declares' },
    ]);
  return new AppError(kindOfStatus(status), 'request is invalid', { cause: error });
}
