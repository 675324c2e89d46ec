import type { Express } from 'express';
import { apiCoverage, edgeReachMismatches } from '../src/http/api-coverage';

/**
 * The two checks every service's `/openapi.json` must pass, for its `http/api.spec.ts`. Kept outside
 * `src/`: the service images compile `src/` without jest's types.
 */
export function describeApiDocument(name: string, routes: (app: Express) => void): void {
  describe(`${name} API document (/openapi.json)`, () => {
    it('lists every route the service serves, and serves every route it lists', async () => {
      const { served, documented } = await apiCoverage(name, routes);
      expect(documented).toEqual(served);
    });

    it('marks as internal exactly the operations the public edge does not forward', async () => {
      const { document } = await apiCoverage(name, routes);
      expect(edgeReachMismatches(name, document)).toEqual([]);
    });
  });
}
