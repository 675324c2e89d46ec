import type {
  V1Container,
  V1EnvVar,
  V1PodSecurityContext,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { ManagedSpec } from '../api/ecom-stack';
import {
  CREDENTIAL_KEYS,
  FERRETDB_DATABASE,
  ferretDbPostgresUrl,
  managedHost,
  MONGO_REPLICA_SET,
  PORTS,
} from './connections';
import { metadata, names, selectorLabels, STACK_LABEL, type RenderContext, type Rendered } from './context';
import { componentPeer, ingressPolicy, type NetworkPolicyObject } from './network-policies';
import { backendClients, servicesUsing } from './service-catalog';

export type Backend = 'kafka' | 'postgres' | 'mongodb' | 'redis';
export const BACKENDS: readonly Backend[] = ['kafka', 'postgres', 'mongodb', 'redis'];

export type StatefulSetObject = V1StatefulSet & Rendered;

function headlessService(
  ctx: RenderContext,
  backend: Backend,
  ports: Record<string, number>,
): V1Service & Rendered {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(ctx, names.infra(ctx, backend), backend),
    spec: {
      clusterIP: 'None',
      // Peers must resolve before they are ready (Kafka's controller, Mongo's replica set).
      publishNotReadyAddresses: true,
      selector: selectorLabels(ctx, backend),
      ports: Object.entries(ports).map(([name, port]) => ({ name, port, targetPort: port, protocol: 'TCP' })),
    },
  };
}

/**
 * Only the stack's pods that use a managed backend reach it (backendClients): never the edge, nor
 * anything outside the stack. The backend itself is listed too: a peer may dial its own Service name.
 */
function networkPolicy(
  ctx: RenderContext,
  backend: Backend,
  ports: Record<string, number>,
): NetworkPolicyObject {
  return ingressPolicy(ctx, names.infra(ctx, backend), backend, [
    {
      from: [componentPeer(ctx, [...backendClients(backend), backend])],
      ports: Object.values(ports).map((port) => ({ port, protocol: 'TCP' })),
    },
  ]);
}

/** Non-root as the image's user (uid = gid = the volume's group), the runtime's default seccomp profile. */
function podSecurityContext(uid: number): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

function statefulSet(
  ctx: RenderContext,
  backend: Backend,
  managed: ManagedSpec,
  container: Omit<V1Container, 'name' | 'image' | 'resources' | 'volumeMounts'>,
  dataPath: string,
  extra: {
    /** The image's own user: the pod runs as it, and its volume belongs to its group. */
    uid: number;
    annotations?: Record<string, string>;
    volumes?: { name: string; configMap: { name: string } }[];
    mounts?: { name: string; mountPath: string }[];
  },
): StatefulSetObject {
  const podMeta = metadata(ctx, '', backend);
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(ctx, names.infra(ctx, backend), backend),
    spec: {
      serviceName: names.infra(ctx, backend),
      replicas: 1,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: selectorLabels(ctx, backend) },
      // Deleting the EcomStack deletes its data too; scaling never does.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
      template: {
        metadata: {
          labels: podMeta.labels,
          ...(extra.annotations ? { annotations: extra.annotations } : {}),
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext(extra.uid),
          containers: [
            {
              name: backend,
              image: managed.image,
              resources: managed.resources,
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
              ...container,
              volumeMounts: [{ name: 'data', mountPath: dataPath }, ...(extra.mounts ?? [])],
            },
          ],
          ...(extra.volumes ? { volumes: extra.volumes } : {}),
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: { ...selectorLabels(ctx, backend), [STACK_LABEL]: ctx.name } },
          spec: {
            accessModes: ['ReadWriteOnce'],
            ...(managed.storageClassName === undefined ? {} : { storageClassName: managed.storageClassName }),
            resources: { requests: { storage: managed.storage } },
          },
        },
      ],
    },
  };
}

/**
 * A KRaft cluster id is 16 bytes, base64url: derived from the stack's uid so it is stable. One that
 * starts with '-' is read by `kafka-storage format --cluster-id` as an option, and the broker never
 * starts (Kafka's own random ids never start with it): such a uid gets its first bit cleared.
 */
export function kafkaClusterId(uid: string): string {
  const bytes = Buffer.from(uid.replace(/-/g, '').padEnd(32, '0').slice(0, 32), 'hex');
  if (bytes.toString('base64url').startsWith('-')) bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('base64url');
}

export function buildKafka(ctx: RenderContext): Rendered[] {
  const host = managedHost(ctx, 'kafka');
  const ports = { kafka: PORTS.kafka, controller: PORTS.kafkaController };
  const env: Record<string, string> = {
    CLUSTER_ID: kafkaClusterId(ctx.uid),
    KAFKA_NODE_ID: '1',
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_LISTENERS: `PLAINTEXT://:${PORTS.kafka},CONTROLLER://:${PORTS.kafkaController}`,
    KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${PORTS.kafka}`,
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    KAFKA_CONTROLLER_QUORUM_VOTERS: `1@${host}:${PORTS.kafkaController}`,
    KAFKA_INTER_BROKER_LISTENER_NAME: 'PLAINTEXT',
    KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
    KAFKA_LOG_DIRS: '/var/lib/kafka/data/logs',
  };
  return [
    headlessService(ctx, 'kafka', ports),
    networkPolicy(ctx, 'kafka', ports),
    statefulSet(
      ctx,
      'kafka',
      ctx.spec.infrastructure.kafka.managed,
      {
        ports: [
          { name: 'kafka', containerPort: PORTS.kafka },
          { name: 'controller', containerPort: PORTS.kafkaController },
        ],
        env: Object.entries(env).map(([name, value]) => ({ name, value })),
        readinessProbe: { tcpSocket: { port: 'kafka' }, periodSeconds: 5, failureThreshold: 6 },
        livenessProbe: { tcpSocket: { port: 'controller' }, initialDelaySeconds: 30, periodSeconds: 10 },
      },
      '/var/lib/kafka/data',
      { uid: 1000 },
    ),
  ];
}

export function buildPostgres(ctx: RenderContext): Rendered[] {
  const ports = { postgres: PORTS.postgres };
  const init = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: metadata(ctx, `${names.infra(ctx, 'postgres')}-init`, 'postgres'),
    // One database per service (DESIGN §2), created on the first start of the volume, and
    // FerretDB's, whichever the MongoDB engine: switching to ferretdb later then finds it.
    data: {
      '10-databases.sql': [...servicesUsing('postgres'), FERRETDB_DATABASE]
        .map((db) => `CREATE DATABASE "${db}";`)
        .join('\n')
        .concat('\n'),
    },
  } as Rendered;
  return [
    init,
    headlessService(ctx, 'postgres', ports),
    networkPolicy(ctx, 'postgres', ports),
    statefulSet(
      ctx,
      'postgres',
      ctx.spec.infrastructure.postgres.managed,
      {
        ports: [{ name: 'postgres', containerPort: PORTS.postgres }],
        env: [
          {
            name: 'POSTGRES_PASSWORD',
            valueFrom: {
              secretKeyRef: { name: names.credentials(ctx), key: CREDENTIAL_KEYS.postgresPassword },
            },
          },
          { name: 'PGDATA', value: '/var/lib/postgresql/data/pgdata' },
        ],
        readinessProbe: { exec: { command: ['pg_isready', '-U', 'postgres'] }, periodSeconds: 5 },
        livenessProbe: {
          exec: { command: ['pg_isready', '-U', 'postgres'] },
          initialDelaySeconds: 30,
          periodSeconds: 10,
        },
      },
      '/var/lib/postgresql/data',
      {
        // The postgres user of the Debian-based images (ecom-micro/postgres, postgres:<n>); the
        // upstream entrypoint runs as any uid whose volume is writable.
        uid: 999,
        volumes: [{ name: 'init', configMap: { name: init.metadata.name } }],
        mounts: [{ name: 'init', mountPath: '/docker-entrypoint-initdb.d' }],
      },
    ),
  ];
}

/** The MongoDB-protocol server of the stack, by engine (spec.infrastructure.mongodb.managed.engine). */
export function buildMongo(ctx: RenderContext): Rendered[] {
  const ports = { mongodb: PORTS.mongodb };
  const managed = ctx.spec.infrastructure.mongodb.managed;
  return [
    headlessService(ctx, 'mongodb', ports),
    networkPolicy(ctx, 'mongodb', ports),
    managed.engine === 'mongodb' ? mongodStatefulSet(ctx) : ferretDbStatefulSet(ctx),
  ];
}

/** A real mongod as a one-member replica set (transactions and change streams need one). */
function mongodStatefulSet(ctx: RenderContext): StatefulSetObject {
  const member = `${managedHost(ctx, 'mongodb')}:${PORTS.mongodb}`;
  // The readiness probe initiates the replica set on first start and is a no-op afterwards.
  const probe = `try { rs.status().ok } catch (e) { rs.initiate({ _id: '${MONGO_REPLICA_SET}', members: [{ _id: 0, host: '${member}' }] }).ok }`;
  return statefulSet(
    ctx,
    'mongodb',
    ctx.spec.infrastructure.mongodb.managed,
    {
      args: ['--replSet', MONGO_REPLICA_SET, '--bind_ip_all'],
      ports: [{ name: 'mongodb', containerPort: PORTS.mongodb }],
      readinessProbe: {
        exec: { command: ['mongosh', '--quiet', '--eval', probe] },
        periodSeconds: 10,
        timeoutSeconds: 10,
      },
      livenessProbe: { tcpSocket: { port: 'mongodb' }, initialDelaySeconds: 30, periodSeconds: 10 },
    },
    '/data/db',
    { uid: 999 },
  );
}

/** Variable FerretDB's PostgreSQL URL takes the password from (the kubelet expands it). */
const FERRETDB_PASSWORD_VAR = 'ECOM_POSTGRES_PASSWORD';
/** FerretDB's state file (an instance id), on the StatefulSet's volume. */
const FERRETDB_STATE_DIR = '/state';

/**
 * FerretDB (v1, PostgreSQL backend): the documents live in the managed PostgreSQL's `ferretdb`
 * database, the volume holds only its state file. One plain server: no replica set, no transactions.
 */
function ferretDbStatefulSet(ctx: RenderContext): StatefulSetObject {
  const env: V1EnvVar[] = [
    {
      name: FERRETDB_PASSWORD_VAR,
      valueFrom: {
        secretKeyRef: { name: names.credentials(ctx), key: CREDENTIAL_KEYS.postgresPassword },
      },
    },
    { name: 'FERRETDB_HANDLER', value: 'postgresql' },
    { name: 'FERRETDB_POSTGRESQL_URL', value: ferretDbPostgresUrl(ctx, FERRETDB_PASSWORD_VAR) },
    { name: 'FERRETDB_LISTEN_ADDR', value: `:${PORTS.mongodb}` },
    { name: 'FERRETDB_STATE_DIR', value: FERRETDB_STATE_DIR },
    { name: 'FERRETDB_TELEMETRY', value: 'disable' },
    { name: 'DO_NOT_TRACK', value: '1' },
  ];
  return statefulSet(
    ctx,
    'mongodb',
    ctx.spec.infrastructure.mongodb.managed,
    {
      env,
      ports: [{ name: 'mongodb', containerPort: PORTS.mongodb }],
      // The image has no shell and no client: a TCP probe (FerretDB listens at once and reaches
      // PostgreSQL per request, so clients retry until PostgreSQL is ready).
      readinessProbe: { tcpSocket: { port: 'mongodb' }, periodSeconds: 5 },
      livenessProbe: { tcpSocket: { port: 'mongodb' }, initialDelaySeconds: 15, periodSeconds: 10 },
    },
    FERRETDB_STATE_DIR,
    { uid: 1000 },
  );
}

export function buildRedis(ctx: RenderContext): Rendered[] {
  const ports = { redis: PORTS.redis };
  return [
    headlessService(ctx, 'redis', ports),
    networkPolicy(ctx, 'redis', ports),
    statefulSet(
      ctx,
      'redis',
      ctx.spec.infrastructure.redis.managed,
      {
        args: ['--appendonly', 'yes', '--requirepass', '$(REDIS_PASSWORD)'],
        env: [
          {
            name: 'REDIS_PASSWORD',
            valueFrom: { secretKeyRef: { name: names.credentials(ctx), key: CREDENTIAL_KEYS.redisPassword } },
          },
        ],
        ports: [{ name: 'redis', containerPort: PORTS.redis }],
        readinessProbe: {
          exec: {
            command: ['sh', '-c', 'redis-cli -a "$REDIS_PASSWORD" --no-auth-warning ping | grep -q PONG'],
          },
          periodSeconds: 5,
        },
        livenessProbe: { tcpSocket: { port: 'redis' }, initialDelaySeconds: 15, periodSeconds: 10 },
      },
      '/data',
      { uid: 999 },
    ),
  ];
}

/** Objects of every backend in managed mode. */
export function buildInfrastructure(ctx: RenderContext): Rendered[] {
  const infra = ctx.spec.infrastructure;
  const builders: Record<Backend, (c: RenderContext) => Rendered[]> = {
    kafka: buildKafka,
    postgres: buildPostgres,
    mongodb: buildMongo,
    redis: buildRedis,
  };
  return BACKENDS.filter((b) => infra[b].mode === 'managed').flatMap((b) => builders[b](ctx));
}
