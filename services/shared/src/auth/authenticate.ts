import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../errors/app-error';
import type { JwtVerifier, Principal } from './jwt-verifier';

/** The verified caller of the current request; set by `authenticate`. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw AppError.unauthorized();
  return principal;
}

/** Requires a valid `Authorization: Bearer <access token>`. */
export function authenticate(verifier: JwtVerifier): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const header = req.header('authorization') ?? '';
    const match = /^Bearer\s+([A-Za-z0-9_\-.]+)$/i.exec(header);
    if (!match?.[1]) {
      next(AppError.unauthorized('a bearer access token is required'));
      return;
    }
    verifier.verify(match[1]).then(
      (principal) => {
        res.locals.principal = principal;
        next();
      },
      (error: unknown) => {
        next(error);
      },
    );
  };
}

/** Requires the authenticated caller to hold `role`. */
export function requireRole(role: string): RequestHandler {
  return (_req, res, next) => {
    next(principalOf(res).roles.includes(role) ? undefined : AppError.forbidden(`requires the ${role} role`));
  };
}

export function isAdmin(principal: Principal): boolean {
  return principal.roles.includes('admin');
}

/**
 * Internal routes (saga commands and the like) accept only calls that Dapr
 * delivered from one of the given app ids (Dapr sets `dapr-caller-app-id`).
 */
export function allowCallers(...appIds: string[]): RequestHandler {
  return (req, _res, next) => {
    const caller = req.header('dapr-caller-app-id');
    next(
      caller && appIds.includes(caller)
        ? undefined
        : AppError.forbidden(`internal route; caller '${caller ?? 'unknown'}' is not allowed`),
    );
  };
}
