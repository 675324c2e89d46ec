import type {
  DaprSpec,
  ManagedSpec,
  NotificationSpec,
  ResourceRequirements,
  ServiceName,
} from './ecom-stack';

/**
 * Every default of the EcomStack spec, in one place: the CRD schema publishes
 * them (so `kubectl get -o yaml` shows the effective spec) and the spec resolver
 * applies the same values to whatever the API server did not default.
 */
export const DEFAULT_VERSION = '0.1.0';
export const DEFAULT_REGISTRY = 'ghcr.io/ecom-micro';
export const DEFAULT_PULL_POLICY = 'IfNotPresent';
export const DEFAULT_REPLICAS = 1;

export const DEFAULT_SERVICE_RESOURCES: ResourceRequirements = {
  requests: { cpu: '50m', memory: '128Mi' },
  limits: { memory: '384Mi' },
};

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

export const DEFAULT_MANAGED: Record<'kafka' | 'postgres' | 'mongodb' | 'redis', ManagedSpec> = {
  kafka: {
    image: 'apache/kafka:3.9.1',
    storage: '2Gi',
    resources: { requests: { cpu: '100m', memory: '768Mi' }, limits: { memory: '1536Mi' } },
  },
  postgres: {
    image: 'postgres:16-alpine',
    storage: '2Gi',
    resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
  },
  mongodb: {
    image: 'mongo:7.0',
    storage: '2Gi',
    resources: { requests: { cpu: '100m', memory: '384Mi' }, limits: { memory: '1Gi' } },
  },
  redis: {
    image: 'redis:7.4-alpine',
    storage: '512Mi',
    resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
  },
};

export const DEFAULT_KAFKA_PARTITIONS = 3;

export const DEFAULT_DAPR: DaprSpec = {
  subscriptions: [],
  logLevel: 'info',
  mtls: true,
  tracing: { samplingRate: '1' },
  resiliency: {
    timeout: '10s',
    maxRetries: 5,
    maxRetryInterval: '2s',
    circuitBreakerTrip: 5,
    circuitBreakerTimeout: '30s',
  },
  sidecarResources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
};

export const DEFAULT_NOTIFICATION: NotificationSpec = {
  email: { provider: 'log', from: 'shop@ecom.local' },
  sms: { provider: 'log' },
  push: { provider: 'log' },
};

export const DEFAULT_ACCESS_TOKEN_TTL = '15m';
export const DEFAULT_REFRESH_TOKEN_TTL = '720h';
/** The auth service refuses access tokens living longer than an hour. */
export const MAX_ACCESS_TOKEN_TTL_S = 3600;
