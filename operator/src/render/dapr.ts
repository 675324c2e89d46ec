import { accessControlFor, EDGE_APP_ID, publishingScopes } from '@ecom/shared/access/who-may-call';
import { daprFeatures } from '@ecom/shared/dapr/components';
import {
  DAPR_STATE_APPS,
  outboxEventsOf,
  outboxStoreMetadata,
  outboxStoreName,
  outboxTopicsOf,
} from '@ecom/shared/dapr/outbox-stores';
import { SERVICE_NAMES } from '../api/ecom-stack';
import { databaseUrl, kafkaBrokers, toMetadata, type MetadataItem } from './connections';
import { metadata, names, type AppName, type RenderContext, type Rendered } from './context';
import { APP_NAMES, SERVICES } from './service-catalog';

export const DAPR_API_VERSION = 'dapr.io/v1alpha1';

/**
 * Names the services address their components by: services/shared's
 * `daprComponents`. The local stack's dapr-components/ folder declares the same
 * components for self-hosted mode; dapr-components.spec.ts checks both agree.
 */
export const DAPR_COMPONENT_NAMES = {
  pubsub: 'pubsub',
  actorStateStore: 'actorstate',
} as const;

export interface DaprComponent extends Rendered {
  spec: { type: string; version: string; metadata: MetadataItem[]; initTimeout?: string };
  scopes: string[];
}

function component(
  ctx: RenderContext,
  name: string,
  type: string,
  items: MetadataItem[],
  scopes: readonly string[],
): DaprComponent {
  return {
    apiVersion: DAPR_API_VERSION,
    kind: 'Component',
    metadata: metadata(ctx, name, 'dapr'),
    spec: { type, version: 'v1', initTimeout: '60s', metadata: items },
    scopes: [...scopes],
  };
}

/** pubsub.kafka: every catalogue event; Kafka never creates topics, the topics Job does. */
export function buildPubsub(ctx: RenderContext): DaprComponent {
  return component(
    ctx,
    DAPR_COMPONENT_NAMES.pubsub,
    'pubsub.kafka',
    [
      toMetadata('brokers', kafkaBrokers(ctx)),
      { name: 'consumerGroup', value: '{appID}' },
      { name: 'clientID', value: '{appID}' },
      { name: 'authType', value: 'none' },
      { name: 'disableTls', value: 'true' },
      // A new consumer group starts from the oldest message, so nothing is skipped.
      { name: 'initialOffset', value: 'oldest' },
      { name: 'consumeRetryInterval', value: '200ms' },
      { name: 'heartbeatInterval', value: '1s' },
      { name: 'sessionTimeout', value: '10s' },
      // Each app publishes its own events and the dead letters of those it consumes, nothing else.
      // Dapr's outbox publishes through an internal topic named after the namespace, checked against the same scopes.
      { name: 'publishingScopes', value: publishingScopes((app) => outboxTopicsOf(app, ctx.namespace)) },
    ],
    SERVICE_NAMES,
  );
}

/** state.postgresql in the saga's own database: Dapr Workflow (actor) state. */
export function buildActorStateStore(ctx: RenderContext): DaprComponent {
  const actorServices = SERVICES.filter((s) => s.actors);
  const [first] = actorServices;
  if (first === undefined) throw new Error('no service hosts actors');
  return component(
    ctx,
    DAPR_COMPONENT_NAMES.actorStateStore,
    'state.postgresql',
    [
      toMetadata('connectionString', databaseUrl(ctx, first.name, 'postgres')),
      { name: 'actorStateStore', value: 'true' },
      { name: 'tableName', value: 'dapr_actor_state' },
      { name: 'metadataTableName', value: 'dapr_actor_metadata' },
    ],
    actorServices.map((s) => s.name),
  );
}

/**
 * The state stores of order and payment, in each one's own database: one state.postgresql component
 * per event the app publishes, all over one table, whose transactional outbox publishes that event.
 */
export function buildOutboxStateStores(ctx: RenderContext): DaprComponent[] {
  return DAPR_STATE_APPS.flatMap((app) =>
    outboxEventsOf(app).map((event) =>
      component(
        ctx,
        outboxStoreName(event),
        'state.postgresql',
        [
          toMetadata('connectionString', databaseUrl(ctx, app, 'postgres')),
          ...outboxStoreMetadata(app, event),
        ],
        [app],
      ),
    ),
  );
}

/** Sentry's trust domain: the identity every sidecar's certificate carries (Dapr's default). */
export const TRUST_DOMAIN = 'public';

/**
 * Whom an app's sidecar lets call the app (checked against the caller's mTLS identity): for a service,
 * the edge on its public routes and each internal caller on its own routes, nobody else; for the edge,
 * nobody (clients reach it on its own port).
 */
export function accessControlOf(ctx: RenderContext, app: AppName) {
  return app === EDGE_APP_ID
    ? { defaultAction: 'deny', trustDomain: TRUST_DOMAIN, policies: [] }
    : accessControlFor(app, { trustDomain: TRUST_DOMAIN, namespace: ctx.namespace });
}

/**
 * One app's sidecar Configuration: the stack's tracing and metrics, the workflows' state retention (it
 * acts on the saga's sidecar, the one that runs workflows), and the app's access control.
 */
export function buildDaprConfiguration(
  ctx: RenderContext,
  app: AppName,
): Rendered & { spec: Record<string, unknown> } {
  const { tracing, workflowRetention } = ctx.spec.dapr;
  return {
    apiVersion: DAPR_API_VERSION,
    kind: 'Configuration',
    metadata: metadata(ctx, names.daprConfig(ctx, app), 'dapr'),
    spec: {
      tracing: {
        samplingRate: tracing.samplingRate,
        stdout: false,
        ...(tracing.otlpEndpoint === undefined
          ? {}
          : { otel: { endpointAddress: tracing.otlpEndpoint, isSecure: false, protocol: 'grpc' } }),
      },
      metric: { enabled: true },
      features: daprFeatures,
      workflow: { stateRetentionPolicy: { ...workflowRetention } },
      // mTLS itself is a control-plane setting (the dapr-system Configuration, on by
      // default); spec.dapr.mtls only asserts it. Access control relies on it.
      accessControl: accessControlOf(ctx, app),
    },
  };
}

/** The Configuration of every app. */
export function buildDaprConfigurations(
  ctx: RenderContext,
): (Rendered & { spec: Record<string, unknown> })[] {
  return APP_NAMES.map((app) => buildDaprConfiguration(ctx, app));
}

const ORDER_TIMEOUT = 'orderLongPoll';
const ORDER_LONG_POLL_TIMEOUT = '40s';

export function buildResiliency(
  ctx: RenderContext,
): Rendered & { spec: Record<string, unknown>; scopes: string[] } {
  const r = ctx.spec.dapr.resiliency;
  return {
    apiVersion: DAPR_API_VERSION,
    kind: 'Resiliency',
    metadata: metadata(ctx, names.resiliency(ctx), 'dapr'),
    // The edge's calls get the same timeouts and retries as the services' calls to each other.
    scopes: [...APP_NAMES],
    spec: {
      policies: {
        // Order's GET /orders/:id?waitSeconds waits up to 30 s for the final status: calls to order
        // get the edge's own 40 s (EDGE_TIMEOUT_MS), or the long-poll would be cut at `general`.
        timeouts: { general: r.timeout, [ORDER_TIMEOUT]: ORDER_LONG_POLL_TIMEOUT },
        retries: {
          // Consumers are idempotent: retry delivery for as long as it takes (a participant that is down delays, never loses).
          eventDelivery: { policy: 'exponential', maxInterval: '10s', maxRetries: -1 },
          // A call is retried when the callee could not be reached or was unavailable, never for an
          // answer the app gave (a 4xx is the caller's to handle; a retried 409 would change nothing).
          // No circuit breaker: Dapr counts every non-2xx answer as a failure, so a client sending a
          // few bad requests would open the circuit and cut the service off for everyone.
          serviceCall: {
            policy: 'exponential',
            maxInterval: r.maxRetryInterval,
            maxRetries: r.maxRetries,
            matching: { httpStatusCodes: '502-504', gRPCStatusCodes: '14' },
          },
        },
      },
      targets: {
        apps: Object.fromEntries(
          SERVICE_NAMES.map((app) => [
            app,
            { timeout: app === 'order' ? ORDER_TIMEOUT : 'general', retry: 'serviceCall' },
          ]),
        ),
        components: { [DAPR_COMPONENT_NAMES.pubsub]: { inbound: { retry: 'eventDelivery' } } },
      },
    },
  };
}

export function buildSubscriptions(ctx: RenderContext): Rendered[] {
  return ctx.spec.dapr.subscriptions.map((s) => ({
    apiVersion: 'dapr.io/v2alpha1',
    kind: 'Subscription',
    metadata: metadata(ctx, s.name, 'dapr'),
    spec: {
      pubsubname: DAPR_COMPONENT_NAMES.pubsub,
      topic: s.topic,
      routes: { default: s.route },
      ...(s.deadLetterTopic === undefined ? {} : { deadLetterTopic: s.deadLetterTopic }),
    },
    scopes: [s.app],
  }));
}

/** Every Dapr resource of the stack. */
export function buildDaprResources(ctx: RenderContext): Rendered[] {
  return [
    buildPubsub(ctx),
    buildActorStateStore(ctx),
    ...buildOutboxStateStores(ctx),
    ...buildDaprConfigurations(ctx),
    buildResiliency(ctx),
    ...buildSubscriptions(ctx),
  ];
}
