import { accessGuards, EDGE_APP_ID, isAppError, principalOf, serveApi, type JwtVerifier } from '@ecom/shared';
import type { Express, Request } from 'express';
import type { AuthService } from '../domain/auth-service';
import type { SigningKeyRing } from '../keys/signing-key-ring';
import { authApi } from './api';

export interface AuthRoutesDeps {
  auth: AuthService;
  keys: SigningKeyRing;
  /** Verifies this service's own access tokens against its current key ring. */
  verifier: JwtVerifier;
  /** Counts login outcomes (success, rejected, throttled, error) for the on-call dashboard. */
  recordLogin: (outcome: LoginOutcome) => void;
}

export type LoginOutcome = 'success' | 'rejected' | 'throttled' | 'error';

function loginOutcomeOf(error: unknown): LoginOutcome {
  if (!isAppError(error)) return 'error';
  if (error.kind === 'UNAUTHORIZED') return 'rejected';
  if (error.kind === 'RATE_LIMITED') return 'throttled';
  return 'error';
}

/**
 * The client a login or registration comes from, for the per-client throttles: the address the
 * public edge saw on its socket. The edge replaces whatever X-Forwarded-For the client sent with that
 * address and the edge's sidecar appends its own, so the first entry is the edge's view, and only a
 * call the edge made (`dapr-caller-app-id`, set by Dapr and allowed by access control) carries it.
 * Anything else (a test on the app port) counts as its socket peer.
 */
export function clientOf(req: Request): string {
  const viaEdge = req.header('dapr-caller-app-id') === EDGE_APP_ID;
  const first = viaEdge ? req.header('x-forwarded-for')?.split(',')[0]?.trim() : undefined;
  return first && first.length > 0 ? first : (req.socket.remoteAddress ?? 'unknown');
}

export function authRoutes(deps: AuthRoutesDeps): (app: Express) => void {
  return (app) => {
    serveApi(app, authApi, accessGuards(deps.verifier), {
      register: async ({ body }, req, res) => {
        res.status(201).json(await deps.auth.register(body, clientOf(req)));
      },

      login: async ({ body }, req, res) => {
        res.setHeader('cache-control', 'no-store');
        try {
          const tokens = await deps.auth.login(body, clientOf(req));
          deps.recordLogin('success');
          res.json(tokens);
        } catch (error) {
          deps.recordLogin(loginOutcomeOf(error));
          throw error;
        }
      },

      refresh: async ({ body }, _req, res) => {
        res.setHeader('cache-control', 'no-store');
        res.json(await deps.auth.refresh(body.refreshToken));
      },

      logout: async (_input, _req, res) => {
        const principal = principalOf(res);
        await deps.auth.logout(principal.userId, principal.sessionId ?? '');
        res.status(204).end();
      },

      whoAmI: async (_input, _req, res) => {
        const principal = principalOf(res);
        res.json(await deps.auth.whoAmI(principal.userId, principal.sessionId ?? ''));
      },

      jwks: (_input, _req, res) => {
        res.setHeader('cache-control', 'public, max-age=300');
        res.json(deps.keys.jwks());
      },
    });
  };
}
