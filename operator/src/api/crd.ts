import {
  DEFAULT_ACCESS_TOKEN_TTL,
  DEFAULT_DAPR,
  DEFAULT_KAFKA_PARTITIONS,
  DEFAULT_MANAGED,
  DEFAULT_MONGO_ENGINE,
  DEFAULT_MONGO_MANAGED,
  DEFAULT_NOTIFICATION,
  DEFAULT_PULL_POLICY,
  DEFAULT_REFRESH_TOKEN_TTL,
  DEFAULT_REGISTRY,
  DEFAULT_REPLICAS,
  DEFAULT_VERSION,
  EDGE_PORT,
  EDGE_SERVICE_PORT,
} from './defaults';
import {
  GROUP,
  KIND,
  MONGO_ENGINES,
  PLURAL,
  SERVICE_NAMES,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
  type ManagedSpec,
} from './ecom-stack';

/** An OpenAPI v3 schema node, as the apiextensions API takes it. */
export interface Schema {
  type?: 'object' | 'string' | 'integer' | 'boolean' | 'array' | 'number';
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema;
  items?: Schema;
  required?: string[];
  default?: unknown;
  enum?: string[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  format?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message: string; reason?: string; fieldPath?: string }[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

const NAME_PATTERN = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';
const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$';
const QUANTITY_PATTERN = '^[0-9]+(\\.[0-9]+)?([KMGTPE]i?|m|k)?$';

const str = (description: string, extra: Partial<Schema> = {}): Schema => ({
  type: 'string',
  description,
  ...extra,
});
const obj = (
  description: string,
  properties: Record<string, Schema>,
  extra: Partial<Schema> = {},
): Schema => ({
  type: 'object',
  description,
  properties,
  ...extra,
});
const name = (description: string): Schema => str(description, { pattern: NAME_PATTERN, maxLength: 253 });
const duration = (description: string, dflt: string): Schema =>
  str(description, { pattern: DURATION_PATTERN, default: dflt });
const quantityMap: Schema = {
  type: 'object',
  additionalProperties: { 'x-kubernetes-int-or-string': true, pattern: QUANTITY_PATTERN },
};
const resources = (description: string): Schema =>
  obj(description, { requests: quantityMap, limits: quantityMap });
const secretKeyRef = (description: string): Schema =>
  obj(
    description,
    {
      name: name('Secret name, in the EcomStack namespace.'),
      key: str('Key in the Secret.', { minLength: 1 }),
    },
    {
      required: ['name', 'key'],
    },
  );

/**
 * The settings of one backend. `managed.image` carries a default unless `managed.image` is given
 * (MongoDB's image depends on its engine, so the operator picks it); `managedExtra` adds fields.
 */
function infraSchema(
  backend: string,
  dflt: ManagedSpec,
  external: Schema,
  extra: Record<string, Schema> = {},
  managed: { image?: Schema; extra?: Record<string, Schema> } = {},
): Schema {
  return obj(
    `${backend}: run it in the namespace (managed) or use an existing one (external).`,
    {
      mode: str(
        'managed: the operator runs it as a StatefulSet with a PersistentVolumeClaim; external: use `external`.',
        {
          enum: ['managed', 'external'],
          default: 'managed',
        },
      ),
      managed: obj(
        'Settings of the managed StatefulSet.',
        {
          ...managed.extra,
          image: managed.image ?? str('Container image.', { default: dflt.image }),
          storage: str('Size of the PersistentVolumeClaim.', {
            pattern: QUANTITY_PATTERN,
            default: dflt.storage,
          }),
          storageClassName: str('StorageClass of the claim; the cluster default when unset.'),
          resources: resources('Container resources.'),
        },
        { default: {} },
      ),
      external,
      ...extra,
    },
    {
      default: {},
      'x-kubernetes-validations': [
        {
          rule: "!has(self.mode) || self.mode == 'managed' || has(self.external)",
          message: `external ${backend} needs spec.infrastructure.${backend.toLowerCase()}.external`,
          reason: 'FieldValueRequired',
        },
      ],
    },
  );
}

const mongoEngine: Schema = str(
  'The MongoDB-protocol server of managed MongoDB. ferretdb: FerretDB, storing the documents in the managed PostgreSQL (database `ferretdb`; needs postgres.mode managed), no replica set and so no multi-document transactions. mongodb: a real mongod as a one-member replica set.',
  { enum: [...MONGO_ENGINES], default: DEFAULT_MONGO_ENGINE },
);

/** Settings of one app (a service or the edge): image, replicas, resources, extra environment. */
const appSchema = (description: string, what: string): Schema =>
  obj(
    description,
    {
      image: str(`Full image reference; overrides spec.images (registry and tag) for ${what}.`, {
        minLength: 1,
      }),
      replicas: {
        type: 'integer',
        minimum: 0,
        maximum: 100,
        default: DEFAULT_REPLICAS,
        description: 'Pod replicas.',
      },
      resources: resources(`Container resources of ${what} (the Dapr sidecar has its own).`),
      env: {
        type: 'object',
        description: 'Extra environment variables.',
        additionalProperties: { type: 'string' },
      },
    },
    { default: {} },
  );

const serviceSchema: Schema = appSchema('Settings of one service.', 'this service');

/** On spec.infrastructure: FerretDB runs on the managed PostgreSQL (has() guards each level: CEL sees raw input too). */
const FERRETDB_NEEDS_MANAGED_POSTGRES = [
  '!has(self.mongodb) || !has(self.mongodb.managed) || !has(self.mongodb.managed.engine)',
  "self.mongodb.managed.engine != 'ferretdb'",
  "(has(self.mongodb.mode) && self.mongodb.mode == 'external')",
  "!has(self.postgres) || !has(self.postgres.mode) || self.postgres.mode == 'managed'",
].join(' || ');

const specSchema: Schema = obj('Desired state of one ecom-micro installation.', {
  version: str('Application version; the default image tag.', { default: DEFAULT_VERSION, minLength: 1 }),
  images: obj(
    'Where the service images come from: REGISTRY/ecom-<service>:TAG.',
    {
      registry: str('Image registry and path prefix.', { default: DEFAULT_REGISTRY, minLength: 1 }),
      tag: str('Image tag; spec.version when unset.'),
      pullPolicy: str('Image pull policy.', {
        enum: ['Always', 'IfNotPresent', 'Never'],
        default: DEFAULT_PULL_POLICY,
      }),
      pullSecrets: { type: 'array', items: name('Secret name.'), description: 'Image pull Secrets.' },
    },
    { default: {} },
  ),
  services: obj('Per-service settings.', Object.fromEntries(SERVICE_NAMES.map((s) => [s, serviceSchema])), {
    default: {},
  }),
  edge: appSchema(
    `The public edge: the one app clients reach, through the Service <name>-edge (port ${EDGE_SERVICE_PORT}, named http; the pod listens on ${EDGE_PORT}). It forwards the services' public routes only, as /v1.0/invoke/<app-id>/method/<path>. Image REGISTRY/ecom-edge:TAG unless set.`,
    'the edge',
  ),
  infrastructure: obj(
    'Backends: Kafka, PostgreSQL, MongoDB, Redis.',
    {
      kafka: infraSchema(
        'Kafka',
        DEFAULT_MANAGED.kafka,
        obj(
          'An existing Kafka cluster.',
          { brokersSecretRef: secretKeyRef('Bootstrap servers (host:port,...).') },
          {
            required: ['brokersSecretRef'],
          },
        ),
        {
          partitions: {
            type: 'integer',
            minimum: 1,
            maximum: 1000,
            default: DEFAULT_KAFKA_PARTITIONS,
            description: 'Partitions of each topic the topics Job creates.',
          },
        },
      ),
      postgres: infraSchema(
        'Postgres',
        DEFAULT_MANAGED.postgres,
        obj(
          'An existing PostgreSQL server.',
          {
            secretName: name(
              'Secret with one libpq connection string per service: keys order, inventory, payment, saga.',
            ),
          },
          { required: ['secretName'] },
        ),
      ),
      mongodb: infraSchema(
        'MongoDB',
        DEFAULT_MONGO_MANAGED[DEFAULT_MONGO_ENGINE],
        obj(
          'An existing MongoDB replica set.',
          { secretName: name('Secret with one MongoDB URI per service: keys auth, user, notification.') },
          { required: ['secretName'] },
        ),
        {},
        {
          extra: { engine: mongoEngine },
          image: str(
            `Container image; by engine when unset: ${MONGO_ENGINES.map((e) => `${DEFAULT_MONGO_MANAGED[e].image} (${e})`).join(', ')}.`,
            { minLength: 1 },
          ),
        },
      ),
      redis: infraSchema(
        'Redis',
        DEFAULT_MANAGED.redis,
        obj(
          'An existing Redis.',
          {
            addressSecretRef: secretKeyRef('host:port of the server.'),
            passwordSecretRef: secretKeyRef('Password, when the server has one.'),
          },
          { required: ['addressSecretRef'] },
        ),
      ),
    },
    {
      default: {},
      'x-kubernetes-validations': [
        {
          rule: FERRETDB_NEEDS_MANAGED_POSTGRES,
          message:
            'managed MongoDB with engine ferretdb keeps its documents in the managed PostgreSQL: set postgres.mode managed, or mongodb.managed.engine mongodb',
          reason: 'FieldValueInvalid',
        },
      ],
    },
  ),
  dapr: obj(
    'Dapr settings of the stack.',
    {
      subscriptions: {
        type: 'array',
        description:
          'Declarative subscriptions for extra consumers. The services subscribe in code (GET /dapr/subscribe), so listing their own topics here would deliver twice.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        items: obj(
          'One subscription.',
          {
            name: name('Name of the Subscription object.'),
            topic: str('Topic.', { minLength: 1 }),
            app: str('Service (Dapr app id) that receives the events.', { enum: [...SERVICE_NAMES] }),
            route: str('HTTP path the events are posted to.', { pattern: '^/' }),
            deadLetterTopic: str('Topic for events the app rejects.'),
          },
          { required: ['name', 'topic', 'app', 'route'] },
        ),
      },
      logLevel: str('Sidecar log level.', {
        enum: ['debug', 'info', 'warn', 'error'],
        default: DEFAULT_DAPR.logLevel,
      }),
      mtls: {
        type: 'boolean',
        default: DEFAULT_DAPR.mtls,
        description:
          'Sidecar-to-sidecar mTLS (Dapr Sentry). Turning it off is refused: the stack relies on it.',
        'x-kubernetes-validations': [{ rule: 'self == true', message: 'mTLS cannot be turned off' }],
      },
      tracing: obj(
        'Distributed tracing.',
        {
          samplingRate: str('Sampling rate from 0 to 1.', {
            default: DEFAULT_DAPR.tracing.samplingRate,
            pattern: '^(0(\\.[0-9]+)?|1(\\.0+)?)$',
          }),
          otlpEndpoint: str('OTLP/gRPC collector host:port; no export when unset.'),
        },
        { default: {} },
      ),
      resiliency: obj(
        'Default resiliency policy of calls between services and to components.',
        {
          timeout: duration('Per-call timeout.', DEFAULT_DAPR.resiliency.timeout),
          maxRetries: {
            type: 'integer',
            minimum: 0,
            maximum: 100,
            default: DEFAULT_DAPR.resiliency.maxRetries,
            description: 'Retries with exponential backoff.',
          },
          maxRetryInterval: duration(
            'Longest wait between two retries of a call (exponential backoff).',
            DEFAULT_DAPR.resiliency.maxRetryInterval,
          ),
        },
        { default: {} },
      ),
      sidecarResources: resources('Resources of each Dapr sidecar.'),
    },
    { default: {} },
  ),
  notification: obj(
    'Notification providers.',
    {
      email: obj(
        'E-mail.',
        {
          provider: str(
            'smtp: send through a server. log: no mail server; e-mails are queued, retried and recorded as failed (the notification service has no log-only e-mail channel).',
            {
              enum: ['log', 'smtp'],
              default: DEFAULT_NOTIFICATION.email.provider,
            },
          ),
          from: str('Sender address.', { default: DEFAULT_NOTIFICATION.email.from }),
          smtp: obj(
            'SMTP server.',
            {
              host: str('Host name.', { minLength: 1 }),
              port: {
                type: 'integer',
                minimum: 1,
                maximum: 65535,
                default: 587,
                description: 'Port; 465 is TLS from the start, other ports use STARTTLS when offered.',
              },
              credentialsSecretName: name('Secret with keys username and password.'),
            },
            { required: ['host'] },
          ),
        },
        {
          default: {},
          'x-kubernetes-validations': [
            {
              rule: "!has(self.provider) || self.provider != 'smtp' || has(self.smtp)",
              message: 'the smtp provider needs email.smtp',
            },
          ],
        },
      ),
      sms: obj('SMS.', { provider: str('Provider.', { enum: ['log'], default: 'log' }) }, { default: {} }),
      push: obj('Push.', { provider: str('Provider.', { enum: ['log'], default: 'log' }) }, { default: {} }),
    },
    { default: {} },
  ),
  auth: obj(
    'The auth service.',
    {
      signingKeySecretName: name(
        'Secret with the ES256 signing keys in the auth service key-ring format, one <kid>.es256.json per key (the newest signs); generated when absent. Default: <name>-signing-key.',
      ),
      accessTokenTtl: duration('Access token lifetime, from 1s to 1h.', DEFAULT_ACCESS_TOKEN_TTL),
      refreshTokenTtl: duration(
        'Session lifetime: how long a login (its refresh tokens) lasts; rotation never extends it.',
        DEFAULT_REFRESH_TOKEN_TTL,
      ),
    },
    { default: {} },
  ),
});

const conditionSchema: Schema = obj(
  'A condition of the stack.',
  {
    type: str('Ready, Progressing, Degraded, InfrastructureReady, DaprComponentsReady or ServicesReady.'),
    status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
    reason: str('CamelCase reason.'),
    message: str('Human-readable detail.'),
    observedGeneration: { type: 'integer', minimum: 0 },
    lastTransitionTime: str('When the status last changed.', { format: 'date-time' }),
  },
  { required: ['type', 'status', 'reason', 'lastTransitionTime'] },
);

const statusSchema: Schema = obj('Observed state, written by the operator.', {
  observedGeneration: { type: 'integer', minimum: 0 },
  readyServices: str('Ready apps (the services and the edge) out of all, e.g. 8/8.'),
  version: str('Version the stack runs.'),
  conditions: {
    type: 'array',
    items: conditionSchema,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  },
});

/** The EcomStack CustomResourceDefinition. The chart ships this object as YAML (generated, checked by a test). */
export function buildCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${PLURAL}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: SHORT_NAMES,
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Ready', type: 'string', jsonPath: ".status.conditions[?(@.type=='Ready')].status" },
            { name: 'Services', type: 'string', jsonPath: '.status.readyServices' },
            { name: 'Version', type: 'string', jsonPath: '.spec.version' },
            {
              name: 'Reason',
              type: 'string',
              jsonPath: ".status.conditions[?(@.type=='Ready')].reason",
              priority: 1,
            },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: obj('EcomStack: one resource that installs the whole ecom-micro system.', {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec: { ...specSchema, default: {} },
              status: statusSchema,
            }),
          },
        },
      ],
    },
  };
}
