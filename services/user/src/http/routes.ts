import { accessGuards, isAdmin, principalOf, serveApi, type JwtVerifier } from '@ecom/shared';
import type { Express } from 'express';
import type { ProfileService } from '../domain/profile-service';
import { userApi } from './api';

export function userRoutes(profiles: ProfileService, verifier: JwtVerifier): (app: Express) => void {
  return (app) => {
    serveApi(app, userApi, accessGuards(verifier), {
      getMe: async (_input, _req, res) => {
        res.json(await profiles.get(principalOf(res).userId));
      },

      updateMe: async ({ body }, _req, res) => {
        res.json(await profiles.update(principalOf(res).userId, body));
      },

      listUsers: async ({ query }, _req, res) => {
        res.json(await profiles.list(query.limit, query.cursor));
      },

      getUser: async ({ params }, _req, res) => {
        const principal = principalOf(res);
        res.json(
          await profiles.getVisibleTo({ userId: principal.userId, admin: isAdmin(principal) }, params.id),
        );
      },
    });
  };
}
