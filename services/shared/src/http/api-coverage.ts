import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { isPublicRoute } from '../access/who-may-call';
import { createLogger } from '../logging/logger';
import { createServiceApp } from './create-service-app';
import { OPENAPI_PATH, openApiPath, type OpenApiDocument } from './openapi';

/**
 * For specs: what a service serves against what its OpenAPI document says, so a route added
 * without a document entry (or the reverse) fails a test rather than surprising a client.
 */

/** A route as `GET /orders/{id}`. */
export type RouteKey = string;

function sortedUnique(keys: RouteKey[]): RouteKey[] {
  return [...new Set(keys)].sort();
}

/** Every method and path an Express app routes (middleware mounted with `use` is not a route). */
export function servedRoutes(app: Express): RouteKey[] {
  return sortedUnique(
    app.router.stack.flatMap((layer) => {
      const { route } = layer;
      if (!route) return [];
      return route.stack.map((handler) => `${handler.method.toUpperCase()} ${openApiPath(route.path)}`);
    }),
  );
}

/** Every method and path an OpenAPI document lists. */
export function documentedRoutes(document: OpenApiDocument): RouteKey[] {
  return sortedUnique(
    Object.entries(document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    ),
  );
}

/**
 * Operations whose reach through the public edge differs from what the document says: one not
 * marked `x-internal` must be a public route (who-may-call.ts), one marked so must not.
 */
export function edgeReachMismatches(appId: string, document: OpenApiDocument): RouteKey[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).flatMap(([method, operation]) => {
      const concrete = path.replace(/\{[^}]+\}/g, 'x').replace(/^\//, '');
      const documentedPublic = operation['x-internal'] !== true;
      return isPublicRoute(appId, concrete) === documentedPublic ? [] : [`${method.toUpperCase()} ${path}`];
    }),
  );
}

export interface ApiCoverage {
  served: RouteKey[];
  documented: RouteKey[];
  document: OpenApiDocument;
}

/**
 * Mounts `routes` in a service app as the service would (createServiceApp), reads the document it
 * serves at /openapi.json, and lists both sides.
 */
export async function apiCoverage(name: string, routes: (app: Express) => void): Promise<ApiCoverage> {
  const service = createServiceApp({ name, port: 0, logger: createLogger(name, 'silent'), routes });
  const server = service.app.listen(0, '127.0.0.1');
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve).once('error', reject);
    });
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}${OPENAPI_PATH}`);
    if (response.status !== 200) throw new Error(`${OPENAPI_PATH} answered ${response.status}`);
    const document = (await response.json()) as OpenApiDocument;
    return { served: servedRoutes(service.app), documented: documentedRoutes(document), document };
  } finally {
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  }
}
