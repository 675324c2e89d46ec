import { commands } from '../commands/catalogue';
import { deadLetterTopic, eventNames, type EventName } from '../events/catalogue';
import { OPENAPI_PATH } from '../http/openapi';

/**
 * Who may call what (DESIGN.md §9), written once. The edge app serves the public routes from it; the
 * local stack and the operator render from it each callee's Dapr access-control policy (checked
 * against the caller's mTLS identity) and the pub/sub component's publishing scopes.
 */

/** The seven services' Dapr app ids (DESIGN.md §2). */
export const SERVICE_APP_IDS = [
  'auth',
  'user',
  'notification',
  'order',
  'inventory',
  'payment',
  'saga',
] as const;
export type ServiceAppId = (typeof SERVICE_APP_IDS)[number];

/** The public edge's app id: the one app clients reach, which forwards public routes only. */
export const EDGE_APP_ID = 'edge';

/** What every service serves to anyone: liveness and its OpenAPI document (never /readyz or /metrics). */
const everyService = ['healthz', OPENAPI_PATH.replace(/^\//, '')] as const;

/**
 * Each service's public routes as path prefixes relative to the app (`*` is one segment). A prefix
 * covers what lies below it, as Dapr's access-control operations do; every route here takes a bearer
 * token or is meant for anyone (register, login, refresh, the JWKS, health, the API document).
 */
export const publicRoutes: Readonly<Record<ServiceAppId, readonly string[]>> = {
  auth: [
    'auth/register',
    'auth/login',
    'auth/refresh',
    'auth/logout',
    'auth/me',
    '.well-known/jwks.json',
    ...everyService,
  ],
  user: ['users', ...everyService],
  notification: ['notifications', ...everyService],
  order: ['orders', ...everyService],
  inventory: ['products', 'reservations', ...everyService],
  payment: ['payments', ...everyService],
  saga: ['sagas', ...everyService],
};

export interface InternalRoute {
  callee: ServiceAppId;
  verb: 'GET' | 'POST';
  /** Relative to the callee, `*` for one segment. */
  path: string;
  callers: readonly ServiceAppId[];
}

const verifiers = SERVICE_APP_IDS.filter((id) => id !== 'auth');

/**
 * Calls between services: only these callers, with these verbs, reach these paths. The commands of
 * the command catalogue, and every service reading auth's JWKS.
 */
export const internalRoutes: readonly InternalRoute[] = [
  { callee: 'auth', verb: 'GET', path: '.well-known/jwks.json', callers: verifiers },
  ...Object.values(commands).map((c): InternalRoute => ({
    callee: c.callee,
    verb: 'POST',
    path: c.path.replace(/:[A-Za-z]+/g, '*'),
    callers: c.callers,
  })),
];

/** Whether `path` (relative to the app, no query) is one of the app's public routes. */
export function isPublicRoute(appId: string, path: string): boolean {
  if (!(SERVICE_APP_IDS as readonly string[]).includes(appId)) return false;
  const segments = path.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return false;
  return publicRoutes[appId as ServiceAppId].some((route) => {
    const pattern = route.split('/');
    return (
      pattern.length <= segments.length &&
      pattern.every((p, i) => p === '*' || p.toLowerCase() === segments[i]?.toLowerCase())
    );
  });
}

/** Where the callers' identities come from: Dapr's trust domain and the apps' namespace. */
export interface IdentityScope {
  trustDomain: string;
  namespace: string;
}

/**
 * A route as a Dapr access-control operation. Dapr's operation tree matches `*` only as the last
 * segment, and an operation covers everything below it; so a route with a parameter inside becomes
 * its prefix up to the parameter, plus `**`. The app's own route check narrows it to the exact route.
 */
function aclOperation(route: string): string {
  const segments = route.split('/');
  const wildcard = segments.indexOf('*');
  return wildcard < 0 ? `/${route}` : `/${[...segments.slice(0, wildcard), '**'].join('/')}`;
}

/** One callee's Dapr `spec.accessControl`: deny by default, allow each caller its routes only. */
export function accessControlFor(callee: ServiceAppId, scope: IdentityScope) {
  const policy = (appId: string, operations: { name: string; httpVerb: string[]; action: 'allow' }[]) => ({
    appId,
    defaultAction: 'deny',
    trustDomain: scope.trustDomain,
    namespace: scope.namespace,
    operations,
  });
  const edge = policy(
    EDGE_APP_ID,
    publicRoutes[callee].map((route) => ({
      name: aclOperation(route),
      httpVerb: ['*'],
      action: 'allow' as const,
    })),
  );
  const callers = SERVICE_APP_IDS.flatMap((caller) => {
    const routes = internalRoutes.filter((r) => r.callee === callee && r.callers.includes(caller));
    return routes.length === 0
      ? []
      : [
          policy(
            caller,
            [...new Set(routes.map((r) => `${r.verb} ${aclOperation(r.path)}`))].map((entry) => {
              const [verb = '', name = ''] = entry.split(' ');
              return { name, httpVerb: [verb], action: 'allow' as const };
            }),
          ),
        ];
  });
  return { defaultAction: 'deny', trustDomain: scope.trustDomain, policies: [edge, ...callers] };
}

/**
 * The services that may publish each event: its owner, or for the notification_send command (a
 * request to notification, not a fact) any service.
 */
export const eventPublishers: Readonly<Record<EventName, readonly ServiceAppId[]>> = {
  order_created: ['order'],
  order_paid: ['order'],
  order_cancelled: ['order'],
  inventory_reserved: ['inventory'],
  inventory_failed: ['inventory'],
  inventory_released: ['inventory'],
  inventory_committed: ['inventory'],
  payment_success: ['payment'],
  payment_failed: ['payment'],
  payment_refunded: ['payment'],
  user_registered: ['auth'],
  notification_send: SERVICE_APP_IDS,
};

/** The services that subscribe to each event (their sidecars publish its dead letters). */
export const eventSubscribers: Readonly<Record<EventName, readonly ServiceAppId[]>> = {
  order_created: ['saga', 'notification'],
  order_paid: ['notification'],
  order_cancelled: ['notification'],
  inventory_reserved: [],
  inventory_failed: [],
  inventory_released: [],
  inventory_committed: [],
  payment_success: [],
  payment_failed: ['notification'],
  payment_refunded: [],
  user_registered: ['user', 'notification'],
  notification_send: ['notification'],
};

/**
 * The pub/sub component's `publishingScopes`: each app may publish its own events and the dead
 * letters of the events it consumes; the edge, nothing. An app missing from the list would be
 * unrestricted, so every app is listed, even with nothing after `=`. `internalTopicsOf` adds the
 * topics an app's sidecar publishes to on its own behalf: Dapr's outbox publishes through an
 * internal topic first, and that publish is checked against the same scopes.
 */
export function publishingScopes(internalTopicsOf: (app: string) => string[] = () => []): string {
  const apps = [...SERVICE_APP_IDS, EDGE_APP_ID];
  return apps
    .map((app) => {
      const own = eventNames.filter((e) => (eventPublishers[e] as readonly string[]).includes(app));
      const deadLetters = eventNames
        .filter((e) => (eventSubscribers[e] as readonly string[]).includes(app))
        .map(deadLetterTopic);
      return `${app}=${[...own, ...deadLetters, ...internalTopicsOf(app)].join(',')}`;
    })
    .join(';');
}
