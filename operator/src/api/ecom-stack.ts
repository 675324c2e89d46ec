import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';
import { z } from 'zod';
import {
  DEFAULT_ACCESS_TOKEN_TTL,
  DEFAULT_DAPR,
  DEFAULT_EDGE_RESOURCES,
  DEFAULT_KAFKA_PARTITIONS,
  DEFAULT_MANAGED,
  DEFAULT_MONGO_ENGINE,
  DEFAULT_MONGO_MANAGED,
  DEFAULT_NOTIFICATION,
  DEFAULT_PULL_POLICY,
  DEFAULT_REFRESH_TOKEN_TTL,
  DEFAULT_REGISTRY,
  DEFAULT_REPLICAS,
  DEFAULT_SERVICE_RESOURCES,
  DEFAULT_VERSION,
  EDGE_PORT,
  EDGE_SERVICE_PORT,
  MAX_ACCESS_TOKEN_TTL_S,
} from './defaults';
import { durationSeconds } from './duration';
import { withRules, type Rule } from './structural-schema';

/** API group, version and names of the EcomStack custom resource. */
export const GROUP = 'ecom-micro.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'EcomStack';
export const PLURAL = 'ecomstacks';
export const SINGULAR = 'ecomstack';
export const SHORT_NAMES = ['ecs'];

/**
 * The seven services, in port order (app port 4001..4007). The shared package's SERVICE_APP_IDS
 * spelled again on purpose: this module is loaded where `@ecom/shared`'s sub-paths do not resolve
 * (the cluster tests' global setup); crd.spec.ts checks the two lists agree.
 */
export const SERVICE_NAMES = [
  'auth',
  'user',
  'notification',
  'order',
  'inventory',
  'payment',
  'saga',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** A Kubernetes object name (DNS subdomain). */
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
/** A Go duration, as Dapr and the CRD's duration fields take it. */
const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
/** A resource quantity (`100m`, `2Gi`). */
const QUANTITY = /^[0-9]+(\.[0-9]+)?([KMGTPE]i?|m|k)?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Empty means unset in an optional string field, as kubectl users write `tag: ""`. */
const unsetWhenEmpty = (v: string) => (v === '' ? undefined : v);
const optionalText = (description: string) =>
  z.string().transform(unsetWhenEmpty).optional().meta({ description });
/** An image reference overriding the one the operator would pick: set, or absent. */
const optionalImage = (description: string) => z.string().min(1).optional().meta({ description });
const name = z.string().max(253).regex(NAME, 'not a valid Kubernetes object name');
const objectName = (description: string) => name.meta({ description });
const optionalName = (description: string) => name.transform(unsetWhenEmpty).optional().meta({ description });
const duration = (description: string, dflt: string) =>
  z.string().regex(DURATION, 'not a duration (e.g. 500ms, 10s, 15m)').default(dflt).meta({ description });
const int = (min: number, max: number, dflt: number, description: string) =>
  z.int().min(min).max(max).default(dflt).meta({ description });
const oneOf = <const T extends readonly [string, ...string[]]>(
  values: T,
  dflt: T[number],
  description: string,
) => z.enum(values).default(dflt).meta({ description });
/** An object every field of which has a default: absent, it is parsed as `{}` (and so defaulted). */
const defaulted = <S extends z.ZodObject>(schema: S) => schema.prefault({} as z.input<S>);

/** A quantity as the API server takes it: a string, or a plain number (`cpu: 1`). */
const quantity = z
  .union([
    z.string().regex(QUANTITY, 'not a quantity (e.g. 2Gi)'),
    z.number().nonnegative().transform(String),
  ])
  .meta({ 'x-kubernetes-int-or-string': true });
const quantities = z.record(z.string(), quantity);

const resourceRequirements = z.object({ requests: quantities.optional(), limits: quantities.optional() });
export type ResourceRequirements = z.output<typeof resourceRequirements>;
const resources = (description: string, dflt: ResourceRequirements) =>
  resourceRequirements.default(dflt).meta({ description });

const secretKeyRef = (description: string) =>
  z
    .object({
      name: objectName('Secret name, in the EcomStack namespace.'),
      key: z.string().min(1).meta({ description: 'Key in the Secret.' }),
    })
    .meta({ description });
/** A key in a Secret of the EcomStack's namespace. */
export type SecretKeyRef = z.output<ReturnType<typeof secretKeyRef>>;

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];

/** Settings of one app: a service, or the edge. */
const appSchema = (description: string, what: string, dfltResources: ResourceRequirements) =>
  defaulted(
    z.object({
      image: optionalImage(`Full image reference; overrides spec.images (registry and tag) for ${what}.`),
      replicas: int(0, 100, DEFAULT_REPLICAS, 'Pod replicas.'),
      resources: resources(`Container resources of ${what} (the Dapr sidecar has its own).`, dfltResources),
      env: z
        .record(z.string().regex(ENV_NAME, 'not a valid environment variable name'), z.string())
        .default({})
        .meta({ description: 'Extra environment variables.' }),
    }),
  ).meta({ description });
/** Settings of one app: a service, or the edge. `replicas: 0` scales it down, keeping its configuration. */
export type ServiceSpec = z.output<ReturnType<typeof appSchema>>;

const INFRA_MODES = ['managed', 'external'] as const;
export type InfraMode = (typeof INFRA_MODES)[number];

/**
 * The MongoDB-protocol server a managed `mongodb` runs: `ferretdb` (FerretDB, its data in the managed
 * PostgreSQL, no replica set; what the project builds and tests) or `mongodb` (a real mongod as a
 * one-member replica set).
 */
export const MONGO_ENGINES = ['ferretdb', 'mongodb'] as const;
export type MongoEngine = (typeof MONGO_ENGINES)[number];

/** The managed StatefulSet of one backend; `image` and `resources` default unless `byEngine`. */
const managedFields = (dflt: { image: string; storage: string; resources: ResourceRequirements }) => ({
  image: z.string().default(dflt.image).meta({ description: 'Container image.' }),
  storage: z
    .string()
    .regex(QUANTITY, 'not a quantity (e.g. 2Gi)')
    .default(dflt.storage)
    .meta({ description: 'Size of the PersistentVolumeClaim.' }),
  storageClassName: optionalText('StorageClass of the claim; the cluster default when unset.'),
  resources: resources('Container resources.', dflt.resources),
});
const MANAGED_DESCRIPTION = 'Settings of the managed StatefulSet.';
const managedSchema = (dflt: ManagedSpec) =>
  defaulted(z.object(managedFields(dflt))).meta({ description: MANAGED_DESCRIPTION });
/** Persistent storage of one managed backend. */
export interface ManagedSpec {
  image: string;
  storage: string;
  storageClassName?: string | undefined;
  resources: ResourceRequirements;
}

/** The settings every backend has: where it runs, and how to reach an external one. */
const backendFields = <M extends z.ZodType, E extends z.ZodObject>(managed: M, external: E) => ({
  mode: oneOf(
    INFRA_MODES,
    'managed',
    'managed: the operator runs it as a StatefulSet with a PersistentVolumeClaim; external: use `external`.',
  ),
  managed,
  external: external.optional(),
});
/** `external` mode needs its `external` settings, blamed on the one field they cannot lack. */
const externalRequired = (field: string): Rule<{ mode: InfraMode; external?: unknown }> => ({
  cel: "!has(self.mode) || self.mode == 'managed' || has(self.external)",
  message: 'required when mode is external',
  reason: 'FieldValueRequired',
  path: ['external', field],
  holds: (v) => v.mode === 'managed' || v.external !== undefined,
});
const backendDescription = (backend: string) => ({
  description: `${backend}: run it in the namespace (managed) or use an existing one (external).`,
});

const kafkaSchema = withRules(
  defaulted(
    z.object({
      ...backendFields(
        managedSchema(DEFAULT_MANAGED.kafka),
        z
          .object({ brokersSecretRef: secretKeyRef('Bootstrap servers (host:port,...).') })
          .meta({ description: 'An existing Kafka cluster.' }),
      ),
      partitions: int(
        1,
        1000,
        DEFAULT_KAFKA_PARTITIONS,
        "Partitions of each event topic the topics Job creates, at least: it makes them twice the most replicas any service runs when that is more, so every replica of a consumer has partitions of its own (a topic's partition goes to one replica of each consumer). Dapr's outbox topics get at least 4. Kafka never removes partitions.",
      ),
    }),
  ),
  [externalRequired('brokersSecretRef')],
).meta(backendDescription('Kafka'));

/** A backend whose external form is one Secret of connection strings, a key per service. */
const secretBackend = <M extends z.ZodType>(backend: string, managed: M, external: string, secret: string) =>
  withRules(
    defaulted(
      z.object(
        backendFields(managed, z.object({ secretName: objectName(secret) }).meta({ description: external })),
      ),
    ),
    [externalRequired('secretName')],
  ).meta(backendDescription(backend));

const postgresSchema = secretBackend(
  'Postgres',
  managedSchema(DEFAULT_MANAGED.postgres),
  'An existing PostgreSQL server.',
  'Secret with one libpq connection string per service: keys order, inventory, payment, saga.',
);

/** Managed MongoDB: image and resources follow the engine, so the schema defaults neither. */
const mongoManagedSchema = defaulted(
  z.object({
    engine: oneOf(
      MONGO_ENGINES,
      DEFAULT_MONGO_ENGINE,
      'The MongoDB-protocol server of managed MongoDB. ferretdb: FerretDB, storing the documents in the managed PostgreSQL (database `ferretdb`; needs postgres.mode managed), no replica set and so no multi-document transactions. mongodb: a real mongod as a one-member replica set.',
    ),
    ...managedFields(DEFAULT_MONGO_MANAGED[DEFAULT_MONGO_ENGINE]),
    image: optionalImage(
      `Container image; by engine when unset: ${MONGO_ENGINES.map((e) => `${DEFAULT_MONGO_MANAGED[e].image} (${e})`).join(', ')}.`,
    ),
    resources: resourceRequirements.optional().meta({ description: 'Container resources.' }),
  }),
)
  .transform(({ image, resources, ...rest }) => ({
    ...rest,
    image: image ?? DEFAULT_MONGO_MANAGED[rest.engine].image,
    resources: resources ?? DEFAULT_MONGO_MANAGED[rest.engine].resources,
  }))
  .meta({ description: MANAGED_DESCRIPTION });
export type MongoManagedSpec = z.output<typeof mongoManagedSchema>;

const mongoSchema = secretBackend(
  'MongoDB',
  mongoManagedSchema,
  'An existing MongoDB replica set.',
  'Secret with one MongoDB URI per service: keys auth, user, notification.',
);

const redisSchema = withRules(
  defaulted(
    z.object(
      backendFields(
        managedSchema(DEFAULT_MANAGED.redis),
        z
          .object({
            addressSecretRef: secretKeyRef('host:port of the server.'),
            passwordSecretRef: secretKeyRef('Password, when the server has one.').optional(),
          })
          .meta({ description: 'An existing Redis.' }),
      ),
    ),
  ),
  [externalRequired('addressSecretRef')],
).meta(backendDescription('Redis'));

const infrastructureSchema = withRules(
  defaulted(
    z.object({ kafka: kafkaSchema, postgres: postgresSchema, mongodb: mongoSchema, redis: redisSchema }),
  ),
  [
    {
      // has() guards each level: CEL also sees what the API server did not default (status updates of old objects).
      cel: [
        '!has(self.mongodb) || !has(self.mongodb.managed) || !has(self.mongodb.managed.engine)',
        "self.mongodb.managed.engine != 'ferretdb'",
        "(has(self.mongodb.mode) && self.mongodb.mode == 'external')",
        "!has(self.postgres) || !has(self.postgres.mode) || self.postgres.mode == 'managed'",
      ].join(' || '),
      message:
        'ferretdb keeps its documents in the managed PostgreSQL: set postgres.mode managed, or mongodb.managed.engine mongodb',
      reason: 'FieldValueInvalid',
      path: ['mongodb', 'managed', 'engine'],
      holds: (v) =>
        v.mongodb.managed.engine !== 'ferretdb' ||
        v.mongodb.mode === 'external' ||
        v.postgres.mode === 'managed',
    },
  ],
).meta({ description: 'Backends: Kafka, PostgreSQL, MongoDB, Redis.' });

const subscriptionSchema = z
  .object({
    name: objectName('Name of the Subscription object.'),
    topic: z.string().min(1).meta({ description: 'Topic.' }),
    app: z.enum(SERVICE_NAMES).meta({ description: 'Service (Dapr app id) that receives the events.' }),
    route: z
      .string()
      .regex(/^\//, 'must start with /')
      .meta({ description: 'HTTP path the events are posted to.' }),
    deadLetterTopic: optionalText('Topic for events the app rejects.'),
  })
  .meta({ description: 'One subscription.' });
/** A declarative Dapr subscription: for consumers outside the services (which subscribe in code). */
export type SubscriptionSpec = z.output<typeof subscriptionSchema>;

const subscriptionsSchema = z
  .array(subscriptionSchema)
  // The CRD's list-map keys refuse a duplicate name at the API server; this, in the operator.
  .superRefine((list, ctx) => {
    list.forEach((s, i) => {
      if (list.findIndex((o) => o.name === s.name) !== i)
        ctx.addIssue({ code: 'custom', message: `duplicate "${s.name}"`, path: [i, 'name'] });
    });
  })
  .default([])
  .meta({
    description:
      'Declarative subscriptions for extra consumers. The services subscribe in code (GET /dapr/subscribe), so listing their own topics here would deliver twice.',
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
  });

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

const daprSchema = defaulted(
  z.object({
    subscriptions: subscriptionsSchema,
    logLevel: oneOf(LOG_LEVELS, DEFAULT_DAPR.logLevel, 'Sidecar log level.'),
    mtls: withRules(z.boolean(), [
      { cel: 'self == true', message: 'mTLS cannot be turned off', holds: (v) => v },
    ])
      .default(DEFAULT_DAPR.mtls)
      .meta({
        description:
          'Sidecar-to-sidecar mTLS (Dapr Sentry). Turning it off is refused: the stack relies on it.',
      }),
    tracing: defaulted(
      z.object({
        samplingRate: z
          .string()
          .regex(/^(0(\.[0-9]+)?|1(\.0+)?)$/, 'must be a number from 0 to 1')
          .default(DEFAULT_DAPR.tracing.samplingRate)
          .meta({ description: 'Sampling rate from 0 to 1.' }),
        otlpEndpoint: optionalText('OTLP/gRPC collector host:port; no export when unset.'),
      }),
    ).meta({ description: 'Distributed tracing.' }),
    workflowRetention: defaulted(
      z.object({
        completed: duration(
          "How long an order saga's workflow that ran its course (the order paid, compensated, or the saga FAILED in its log) keeps its state (history) before Dapr purges it; the saga's own log keeps every outcome.",
          DEFAULT_DAPR.workflowRetention.completed,
        ),
        failed: duration(
          "How long an order saga's workflow that Dapr records as failed (its code threw) keeps its state before Dapr purges it.",
          DEFAULT_DAPR.workflowRetention.failed,
        ),
        terminated: duration(
          "How long an order saga's workflow that was terminated (by an operator) keeps its state before Dapr purges it.",
          DEFAULT_DAPR.workflowRetention.terminated,
        ),
      }),
    ).meta({ description: "Dapr Workflow's state retention policy for ended order sagas." }),
    resiliency: defaulted(
      z.object({
        timeout: duration('Per-call timeout.', DEFAULT_DAPR.resiliency.timeout),
        maxRetries: int(0, 100, DEFAULT_DAPR.resiliency.maxRetries, 'Retries with exponential backoff.'),
        maxRetryInterval: duration(
          'Longest wait between two retries of a call (exponential backoff).',
          DEFAULT_DAPR.resiliency.maxRetryInterval,
        ),
      }),
    ).meta({ description: 'Default resiliency policy of calls between services and to components.' }),
    sidecarResources: resources('Resources of each Dapr sidecar.', DEFAULT_DAPR.sidecarResources),
  }),
).meta({ description: 'Dapr settings of the stack.' });
export type DaprSpec = z.output<typeof daprSchema>;
/** The default policy of calls between services and to components. */
export type ResiliencySpec = DaprSpec['resiliency'];

const logProvider = defaulted(z.object({ provider: oneOf(['log'], 'log', 'Provider.') }));

const notificationSchema = defaulted(
  z.object({
    email: withRules(
      defaulted(
        z.object({
          provider: oneOf(
            ['log', 'smtp'],
            DEFAULT_NOTIFICATION.email.provider,
            'smtp: send through a server. log: no mail server; e-mails are queued, retried and recorded as failed (the notification service has no log-only e-mail channel).',
          ),
          from: z.string().default(DEFAULT_NOTIFICATION.email.from).meta({ description: 'Sender address.' }),
          smtp: z
            .object({
              host: z.string().min(1).meta({ description: 'Host name.' }),
              port: int(
                1,
                65535,
                587,
                'Port; 465 is TLS from the start, other ports use STARTTLS when offered.',
              ),
              credentialsSecretName: optionalName('Secret with keys username and password.'),
            })
            .optional()
            .meta({ description: 'SMTP server.' }),
        }),
      ),
      [
        {
          cel: "!has(self.provider) || self.provider != 'smtp' || has(self.smtp)",
          message: 'required when the email provider is smtp',
          reason: 'FieldValueRequired',
          path: ['smtp', 'host'],
          holds: (v) => v.provider !== 'smtp' || v.smtp !== undefined,
        },
      ],
    ).meta({ description: 'E-mail.' }),
    sms: logProvider.meta({ description: 'SMS.' }),
    push: logProvider.meta({ description: 'Push.' }),
  }),
).meta({ description: 'Notification providers.' });
export type NotificationSpec = z.output<typeof notificationSchema>;

const authSchema = defaulted(
  z.object({
    signingKeySecretName: optionalName(
      'Secret with the ES256 signing keys in the auth service key-ring format, one <kid>.es256.json per key (the newest signs); generated when absent. Default: <name>-signing-key.',
    ),
    // The auth service takes whole seconds, and refuses access tokens living longer than an hour.
    accessTokenTtl: withRules(z.string().regex(DURATION, 'not a duration (e.g. 500ms, 10s, 15m)'), [
      {
        cel: "duration(self) >= duration('1s') && duration(self) <= duration('1h')",
        message: 'must be from 1s to 1h',
        holds: (v) => !DURATION.test(v) || inSeconds(v, 1, MAX_ACCESS_TOKEN_TTL_S),
      },
    ])
      .default(DEFAULT_ACCESS_TOKEN_TTL)
      .meta({ description: 'Access token lifetime, from 1s to 1h.' }),
    refreshTokenTtl: withRules(z.string().regex(DURATION, 'not a duration (e.g. 500ms, 10s, 15m)'), [
      {
        cel: "duration(self) >= duration('1s')",
        message: 'must be at least 1s',
        holds: (v) => !DURATION.test(v) || inSeconds(v, 1, Infinity),
      },
    ])
      .default(DEFAULT_REFRESH_TOKEN_TTL)
      .meta({
        description:
          'Session lifetime: how long a login (its refresh tokens) lasts; rotation never extends it.',
      }),
  }),
).meta({ description: 'The auth service.' });

const inSeconds = (d: string, min: number, max: number): boolean => {
  const s = durationSeconds(d);
  return s >= min && s <= max;
};

/**
 * The EcomStack spec: the one source of its TypeScript types, of the operator's validation and
 * defaulting (resolve-spec.ts), and of the CRD's structural schema with its defaults and CEL
 * rules (crd.ts).
 */
export const ecomStackSpecSchema = z
  .object({
    version: z
      .string()
      .min(1)
      .default(DEFAULT_VERSION)
      .meta({ description: 'Application version; the default image tag.' }),
    images: defaulted(
      z.object({
        registry: z
          .string()
          .min(1)
          .default(DEFAULT_REGISTRY)
          .meta({ description: 'Image registry and path prefix.' }),
        tag: optionalText('Image tag; spec.version when unset.'),
        pullPolicy: oneOf(PULL_POLICIES, DEFAULT_PULL_POLICY, 'Image pull policy.'),
        pullSecrets: z
          .array(objectName('Secret name.'))
          .default([])
          .meta({ description: 'Image pull Secrets.' }),
      }),
    ).meta({ description: 'Where the service images come from: REGISTRY/ecom-<service>:TAG.' }),
    services: defaulted(
      z.strictObject(
        Object.fromEntries(
          SERVICE_NAMES.map((s) => [
            s,
            appSchema('Settings of one service.', 'this service', DEFAULT_SERVICE_RESOURCES),
          ]),
        ) as Record<ServiceName, ReturnType<typeof appSchema>>,
        { error: (issue) => (issue.code === 'unrecognized_keys' ? 'unknown service' : undefined) },
      ),
    ).meta({ description: 'Per-service settings.' }),
    edge: appSchema(
      `The public edge: the one app clients reach, through the Service <name>-edge (port ${EDGE_SERVICE_PORT}, named http; the pod listens on ${EDGE_PORT}). It forwards the services' public routes only, as /v1.0/invoke/<app-id>/method/<path>. Image REGISTRY/ecom-edge:TAG unless set.`,
      'the edge',
      DEFAULT_EDGE_RESOURCES,
    ),
    infrastructure: infrastructureSchema,
    dapr: daprSchema,
    notification: notificationSchema,
    auth: authSchema,
  })
  .meta({ description: 'Desired state of one ecom-micro installation.' });

/** The EcomStack spec with every default applied (what the builders read). */
export type EcomStackSpec = z.output<typeof ecomStackSpecSchema>;

const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;
export type ConditionStatus = (typeof CONDITION_STATUSES)[number];

const generation = z.int().min(0);

const conditionSchema = z
  .object({
    type: z.string().meta({
      description:
        'Ready, Progressing, Degraded, InfrastructureReady, DaprInstalled, DaprComponentsReady or ServicesReady.',
    }),
    status: z.enum(CONDITION_STATUSES).meta({ description: 'True, False or Unknown.' }),
    reason: z.string().meta({ description: 'CamelCase reason.' }),
    message: z.string().optional().meta({ description: 'Human-readable detail.' }),
    observedGeneration: generation.optional(),
    lastTransitionTime: z
      .string()
      .meta({ description: 'When the status last changed.', format: 'date-time' }),
  })
  .meta({ description: 'A condition of the stack.' });
/** The operator always writes every field of its conditions. */
export type Condition = Required<z.output<typeof conditionSchema>>;

/** The status the operator writes: its types, and the CRD's status schema. */
export const ecomStackStatusSchema = z
  .object({
    observedGeneration: generation.optional(),
    readyServices: z
      .string()
      .optional()
      .meta({ description: 'Ready apps (the services and the edge) out of all, e.g. 8/8.' }),
    version: z.string().optional().meta({ description: 'Version the stack runs.' }),
    daprVersion: z.string().optional().meta({
      description: "Version of the cluster's Dapr control plane, as its sidecar injector is labelled.",
    }),
    conditions: z
      .array(conditionSchema)
      .optional()
      .meta({
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
  })
  .meta({ description: 'Observed state, written by the operator.' });
export type EcomStackStatus = Omit<z.output<typeof ecomStackStatusSchema>, 'conditions'> & {
  conditions?: Condition[];
};

/** The resource as read from the API server: the spec may lack what the schema defaulted. */
export interface EcomStack extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: V1ObjectMeta & { name: string; namespace: string; uid: string };
  spec?: unknown;
  status?: EcomStackStatus;
}

/** Condition types written to status.conditions. */
export const ConditionType = {
  Ready: 'Ready',
  Progressing: 'Progressing',
  Degraded: 'Degraded',
  InfrastructureReady: 'InfrastructureReady',
  DaprInstalled: 'DaprInstalled',
  DaprComponentsReady: 'DaprComponentsReady',
  ServicesReady: 'ServicesReady',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];
