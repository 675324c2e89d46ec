import { authenticate, isAdmin, parseInput, principalOf, requireRole, type JwtVerifier } from '@ecom/shared';
import type { Express } from 'express';
import type { ProfileService } from '../domain/profile-service';
import { listQuery, patchProfileBody, userIdParam } from './schemas';

export function userRoutes(profiles: ProfileService, verifier: JwtVerifier): (app: Express) => void {
  return (app) => {
    const auth = authenticate(verifier);

    app.get('/users/me', auth, async (_req, res) => {
      res.json(await profiles.get(principalOf(res).userId));
    });

    app.patch('/users/me', auth, async (req, res) => {
      const patch = parseInput(patchProfileBody, req.body, 'body');
      res.json(await profiles.update(principalOf(res).userId, patch));
    });

    app.get('/users', auth, requireRole('admin'), async (req, res) => {
      const query = parseInput(listQuery, req.query, 'query');
      res.json(await profiles.list(query.limit, query.cursor));
    });

    app.get('/users/:id', auth, async (req, res) => {
      const { id } = parseInput(userIdParam, req.params, 'path');
      const principal = principalOf(res);
      res.json(await profiles.getVisibleTo({ userId: principal.userId, admin: isAdmin(principal) }, id));
    });
  };
}
