import {
  accessControlFor,
  EDGE_APP_ID,
  isPublicRoute,
  publishingScopes,
  SERVICE_APP_IDS,
} from './who-may-call';

const scope = { trustDomain: 'public', namespace: 'shop' };

describe('who may call what', () => {
  it.each([
    ['order', 'orders'],
    ['order', 'orders/4b7c/cancel'],
    ['auth', 'auth/login'],
    ['auth', '.well-known/jwks.json'],
    ['user', 'users/me'],
    ['inventory', 'products/SKU-1'],
    ['saga', 'sagas/4b7c'],
    ['payment', 'healthz'],
    ['payment', 'openapi.json'],
    ['auth', 'openapi.json'],
  ])('the edge forwards %s /%s', (app, path) => {
    expect(isPublicRoute(app, path)).toBe(true);
  });

  it.each([
    ['order', 'internal/orders/4b7c/paid'],
    ['payment', 'internal/charges'],
    ['saga', 'internal/sagas/4b7c/cancel'],
    ['inventory', 'internal/reservations'],
    ['order', 'readyz'],
    ['order', 'metrics'],
    ['order', 'openapi.json/x/../../readyz'],
    ['order', 'dapr/subscribe'],
    ['order', 'orders/../internal/orders/4b7c/paid'],
    ['order', 'orders//x'],
    ['auth', 'auth/internal'],
    ['edge', 'healthz'],
    ['nobody', 'orders'],
  ])('the edge refuses %s /%s', (app, path) => {
    expect(isPublicRoute(app, path)).toBe(false);
  });

  it('gives each caller exactly its routes on a callee, and denies everyone else', () => {
    const acl = accessControlFor('order', scope);
    expect(acl.defaultAction).toBe('deny');
    const byApp = Object.fromEntries(acl.policies.map((p) => [p.appId, p]));
    expect(Object.keys(byApp).sort()).toEqual([EDGE_APP_ID, 'saga']);
    expect(byApp.saga?.defaultAction).toBe('deny');
    expect(byApp.saga?.namespace).toBe('shop');
    // Dapr matches `*` only at the end: a parameter inside a route becomes a prefix with `**`.
    expect(byApp.saga?.operations).toEqual([
      { name: '/internal/orders/**', httpVerb: ['POST'], action: 'allow' },
    ]);
    expect(byApp[EDGE_APP_ID]?.operations.map((o) => o.name)).toEqual([
      '/orders',
      '/healthz',
      '/openapi.json',
    ]);
  });

  it("lets the edge reach every service's health and OpenAPI document, and no platform-only endpoint", () => {
    for (const app of SERVICE_APP_IDS) {
      const edge = accessControlFor(app, scope).policies.find((p) => p.appId === EDGE_APP_ID);
      const names = edge?.operations.map((o) => o.name) ?? [];
      expect({ app, names }).toEqual({ app, names: expect.arrayContaining(['/healthz', '/openapi.json']) });
      expect(names).not.toContain('/readyz');
      expect(names).not.toContain('/metrics');
      expect(isPublicRoute(app, 'openapi.json')).toBe(true);
      expect(isPublicRoute(app, 'readyz')).toBe(false);
    }
  });

  it('lets every service read the JWKS, and only the edge reach auth otherwise', () => {
    const acl = accessControlFor('auth', scope);
    const callers = acl.policies.map((p) => p.appId).sort();
    expect(callers).toEqual([EDGE_APP_ID, ...SERVICE_APP_IDS.filter((s) => s !== 'auth')].sort());
    for (const p of acl.policies.filter((p) => p.appId !== EDGE_APP_ID))
      expect(p.operations).toEqual([{ name: '/.well-known/jwks.json', httpVerb: ['GET'], action: 'allow' }]);
  });

  it('scopes publishing: each event by its owner, dead letters by consumers, nothing by the edge', () => {
    const scopes: Record<string, string[]> = Object.fromEntries(
      publishingScopes()
        .split(';')
        .map((entry) => entry.split('='))
        .map(([app, topics]) => [app ?? '', (topics ?? '').split(',').filter(Boolean)]),
    );
    expect(Object.keys(scopes).sort()).toEqual([...SERVICE_APP_IDS, EDGE_APP_ID].sort());
    expect(scopes[EDGE_APP_ID]).toEqual([]);
    expect(scopes.order).toEqual(expect.arrayContaining(['order_created', 'order_paid', 'order_cancelled']));
    expect(scopes.saga).not.toContain('order_created');
    expect(scopes.saga).toContain('order_created_dlq');
    expect(scopes.user).not.toContain('user_registered');
    expect(scopes.auth).toContain('user_registered');
    const owners = Object.entries(scopes).filter(([, topics]) => topics.includes('payment_success'));
    expect(owners.map(([app]) => app)).toEqual(['payment']);
  });
});
