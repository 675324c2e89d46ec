import type { KubernetesObject, V1ObjectMeta } from '@kubernetes/client-node';

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

export type InfraMode = 'managed' | 'external';
export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** A key in a Secret of the EcomStack's namespace. */
export interface SecretKeyRef {
  name: string;
  key: string;
}

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

/** Settings of one app: a service, or the edge. */
export interface ServiceSpec {
  /** Full image reference for this app; overrides spec.images (registry and tag). */
  image?: string;
  /** 0 scales the service down without removing its configuration. */
  replicas: number;
  resources: ResourceRequirements;
  /** Extra environment variables, after the ones the operator sets. */
  env: Record<string, string>;
}

/** Persistent storage of one managed backend. */
export interface ManagedSpec {
  image: string;
  storage: string;
  storageClassName?: string;
  resources: ResourceRequirements;
}

export interface KafkaSpec {
  mode: InfraMode;
  managed: ManagedSpec;
  /** external: bootstrap servers, e.g. `kafka-0.kafka:9092,kafka-1.kafka:9092`. */
  external?: { brokersSecretRef: SecretKeyRef };
  /** Partitions of every topic the topics job creates. */
  partitions: number;
}

export interface PostgresSpec {
  mode: InfraMode;
  managed: ManagedSpec;
  /**
   * external: a Secret with one libpq connection string per PostgreSQL-backed
   * service, under the service's name (`order`, `inventory`, `payment`, `saga`):
   * database per service holds for external servers too.
   */
  external?: { secretName: string };
}

/**
 * The MongoDB-protocol server a managed `mongodb` runs: `ferretdb` (FerretDB, its data in the managed
 * PostgreSQL, no replica set; what the project builds and tests) or `mongodb` (a real mongod as a
 * one-member replica set).
 */
export const MONGO_ENGINES = ['ferretdb', 'mongodb'] as const;
export type MongoEngine = (typeof MONGO_ENGINES)[number];

export interface MongoManagedSpec extends ManagedSpec {
  engine: MongoEngine;
}

export interface MongoSpec {
  mode: InfraMode;
  managed: MongoManagedSpec;
  /** external: a Secret with one MongoDB URI per MongoDB-backed service (`auth`, `user`, `notification`). */
  external?: { secretName: string };
}

export interface RedisSpec {
  mode: InfraMode;
  managed: ManagedSpec;
  /** external: `host:port`, and the password in the same Secret under `password` when it has one. */
  external?: { addressSecretRef: SecretKeyRef; passwordSecretRef?: SecretKeyRef };
}

export interface InfrastructureSpec {
  kafka: KafkaSpec;
  postgres: PostgresSpec;
  mongodb: MongoSpec;
  redis: RedisSpec;
}

export interface ResiliencySpec {
  timeout: string;
  maxRetries: number;
  maxRetryInterval: string;
}

/** A declarative Dapr subscription: for consumers outside the services (which subscribe in code). */
export interface SubscriptionSpec {
  name: string;
  topic: string;
  app: ServiceName;
  route: string;
  deadLetterTopic?: string;
}

export interface DaprSpec {
  subscriptions: SubscriptionSpec[];
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  mtls: boolean;
  tracing: { samplingRate: string; otlpEndpoint?: string };
  resiliency: ResiliencySpec;
  sidecarResources: ResourceRequirements;
}

export type EmailProvider = 'log' | 'smtp';
export type SmsProvider = 'log';
export type PushProvider = 'log';

export interface NotificationSpec {
  email: {
    provider: EmailProvider;
    from: string;
    smtp?: { host: string; port: number; credentialsSecretName?: string };
  };
  sms: { provider: SmsProvider };
  push: { provider: PushProvider };
}

export interface AuthSpec {
  /**
   * Secret holding the ES256 signing keys as the auth service's key ring reads them: one
   * `<kid>.es256.json` per key (see render/secrets.ts); generated when absent.
   */
  signingKeySecretName?: string;
  accessTokenTtl: string;
  refreshTokenTtl: string;
}

export interface ImagesSpec {
  registry: string;
  /** Defaults to spec.version. */
  tag?: string;
  pullPolicy: PullPolicy;
  pullSecrets: string[];
}

/** The EcomStack spec with every default applied (what the builders read). */
export interface EcomStackSpec {
  version: string;
  images: ImagesSpec;
  services: Record<ServiceName, ServiceSpec>;
  /** The public edge: the one app clients reach, behind the `<name>-edge` Service. */
  edge: ServiceSpec;
  infrastructure: InfrastructureSpec;
  dapr: DaprSpec;
  notification: NotificationSpec;
  auth: AuthSpec;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

export interface EcomStackStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  /** `ready/total` apps (the services and the edge), for the printer column. */
  readyServices?: string;
  version?: string;
}

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
  DaprComponentsReady: 'DaprComponentsReady',
  ServicesReady: 'ServicesReady',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];
