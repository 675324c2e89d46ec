import type { ManagedSpec, MongoEngine, ResourceRequirements, ServiceName } from './ecom-stack';

/**
 * Every default of the EcomStack spec, in one place: the spec's zod schema (ecom-stack.ts) takes
 * them, so the CRD generated from it publishes them (`kubectl get -o yaml` shows the effective
 * spec) and the operator's parse applies the same values to whatever the API server did not default.
 */
export const DEFAULT_VERSION = '0.1.0';
/** The prefix of the locally built images (services/Dockerfile): `ecom-micro/ecom-<service>:<version>`. */
export const DEFAULT_REGISTRY = 'ecom-micro';
export const DEFAULT_PULL_POLICY = 'IfNotPresent';
export const DEFAULT_REPLICAS = 1;

export const DEFAULT_SERVICE_RESOURCES: ResourceRequirements = {
  requests: { cpu: '50m', memory: '128Mi' },
  limits: { memory: '384Mi' },
};

/**
 * The edge's resources: a forwarding proxy with no database or cache, lighter than a service.
 */
export const DEFAULT_EDGE_RESOURCES: ResourceRequirements = {
  requests: { cpu: '50m', memory: '96Mi' },
  limits: { memory: '256Mi' },
};

/**
 * The edge's app port in its pod (container port `http`); its Service `<name>-edge` exposes it as
 * port 80, also named `http`.
 */
export const EDGE_PORT = 8080;
export const EDGE_SERVICE_PORT = 80;

/** App ports of the services, as in the local stack (DESIGN §2). */
export const SERVICE_PORTS: Record<ServiceName, number> = {
  auth: 4001,
  user: 4002,
  notification: 4003,
  order: 4004,
  inventory: 4005,
  payment: 4006,
  saga: 4007,
};

/**
 * The managed backends. The images are the ones stack/provision/infra-images.sh builds from
 * Debian's packages and the local stack's parts (tags from stack/versions.env; a unit spec checks
 * they agree); upstream images with the same contract (apache/kafka, postgres, redis) work too.
 */
export const DEFAULT_MANAGED: Record<'kafka' | 'postgres' | 'redis', ManagedSpec> = {
  kafka: {
    image: 'ecom-micro/kafka:3.9.1',
    storage: '2Gi',
    resources: { requests: { cpu: '100m', memory: '768Mi' }, limits: { memory: '1536Mi' } },
  },
  postgres: {
    image: 'ecom-micro/postgres:15',
    storage: '2Gi',
    resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
  },
  redis: {
    image: 'ecom-micro/redis:7',
    storage: '512Mi',
    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
  },
};

/** ferretdb: what CI can run (no registry serves a mongod); mongodb: the real server, not exercised here. */
export const DEFAULT_MONGO_ENGINE: MongoEngine = 'ferretdb';

/**
 * Managed MongoDB, per engine. Image and resources follow the engine (so the CRD schema defaults
 * neither); the storage does not, as a StatefulSet's claim template cannot change: with ferretdb the
 * claim holds only FerretDB's state file (the documents live in PostgreSQL).
 */
export const DEFAULT_MONGO_MANAGED: Record<MongoEngine, ManagedSpec> = {
  ferretdb: {
    image: 'ecom-micro/ferretdb:1.24.2',
    storage: '2Gi',
    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '512Mi' } },
  },
  mongodb: {
    image: 'mongo:7.0',
    storage: '2Gi',
    resources: { requests: { cpu: '100m', memory: '384Mi' }, limits: { memory: '1Gi' } },
  },
};

export const DEFAULT_KAFKA_PARTITIONS = 3;

// Not typed as the spec's parts: the schema those types come from reads these values.
export const DEFAULT_DAPR = {
  logLevel: 'info' as const,
  mtls: true,
  tracing: { samplingRate: '1' },
  // The shared package's workflowStateRetention spelled again: this module is loaded where
  // `@ecom/shared`'s sub-paths do not resolve (the cluster tests' global setup); crd.spec.ts checks
  // the two agree.
  workflowRetention: { completed: '24h', failed: '720h', terminated: '720h' },
  resiliency: {
    timeout: '10s',
    maxRetries: 5,
    maxRetryInterval: '2s',
  },
  sidecarResources: {
    requests: { cpu: '50m', memory: '64Mi' },
    limits: { memory: '256Mi' },
  } as ResourceRequirements,
};

export const DEFAULT_NOTIFICATION = {
  email: { provider: 'log' as const, from: 'shop@ecom.local' },
};

export const DEFAULT_ACCESS_TOKEN_TTL = '15m';
export const DEFAULT_REFRESH_TOKEN_TTL = '720h';
/** The auth service refuses access tokens living longer than an hour. */
export const MAX_ACCESS_TOKEN_TTL_S = 3600;
