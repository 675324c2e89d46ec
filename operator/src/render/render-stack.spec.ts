import { createHash, createPrivateKey } from 'node:crypto';
import type {
  V1Deployment,
  V1Job,
  V1PodDisruptionBudget,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { DEFAULT_EDGE_RESOURCES } from '../api/defaults';
import { API_VERSION, KIND, SERVICE_NAMES } from '../api/ecom-stack';
import { contextFor, countingMaterial, externalInfra } from '../testing/fixtures';
import { STACK_LABEL, type Rendered } from './context';
import { kafkaClusterId } from './infrastructure';
import { objectKey, renderStack } from './render-stack';
import {
  buildCredentialsSecret,
  buildSigningKeySecret,
  cryptoSecretMaterial,
  generatedSecrets,
  signingKeyFileName,
  type SigningKeyFile,
} from './secrets';
import { APP_NAMES } from './service-catalog';
import { stackTopics } from './topics-job';
import { CONFIG_HASH_ANNOTATION } from './workloads';

const ofKind = <T>(objs: Rendered[], kind: string) =>
  objs.filter((o) => o.kind === kind) as unknown as (T & Rendered)[];

describe('renderStack', () => {
  const ctx = contextFor();
  const objs = renderStack(ctx);

  it('gives every object an owner reference to the stack, the stack label and its namespace', () => {
    for (const o of objs) {
      expect(o.metadata.namespace).toBe('prod');
      expect(o.metadata.labels[STACK_LABEL]).toBe('shop');
      expect(o.metadata.ownerReferences).toEqual([
        {
          apiVersion: API_VERSION,
          kind: KIND,
          name: 'shop',
          uid: ctx.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
  });

  it('renders each object once', () => {
    const keys = objs.map(objectKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('runs the seven services on ports 4001..4007 with Dapr sidecars, then the edge', () => {
    const deployments = ofKind<V1Deployment>(objs, 'Deployment');
    expect(deployments.map((d) => d.metadata.name)).toEqual([
      ...SERVICE_NAMES.map((s) => `shop-${s}`),
      'shop-edge',
    ]);
    deployments.forEach((d, i) => {
      const app = SERVICE_NAMES[i] ?? 'edge';
      const port = app === 'edge' ? 8080 : 4001 + i;
      const annotations = d.spec?.template.metadata?.annotations ?? {};
      expect(annotations['dapr.io/enabled']).toBe('true');
      expect(annotations['dapr.io/app-id']).toBe(app);
      expect(annotations['dapr.io/app-port']).toBe(String(port));
      expect(annotations['dapr.io/config']).toBe(`ecom-config-${app}`);
      const container = d.spec?.template.spec?.containers[0];
      expect(container?.ports).toEqual([{ name: 'http', containerPort: port, protocol: 'TCP' }]);
      expect(container?.image).toBe(`ecom-micro/ecom-${app}:0.1.0`);
      expect(container?.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
      });
      expect(d.spec?.template.spec?.securityContext?.runAsNonRoot).toBe(true);
      // The pod selector is a subset of the pod labels.
      expect(d.spec?.template.metadata?.labels).toMatchObject(
        d.spec?.selector.matchLabels ?? { missing: true },
      );
    });
  });

  it('has every app listen on all interfaces of its pod, as the kubelet probes it from outside', () => {
    for (const config of ofKind<{ data: Record<string, string> }>(objs, 'ConfigMap').filter((c) =>
      c.metadata.name.endsWith('-config'),
    )) {
      expect({ config: config.metadata.name, host: config.data.APP_HOST }).toEqual({
        config: config.metadata.name,
        host: '0.0.0.0',
      });
    }
  });

  it('leaves placement and the scheduler to the sidecars of the apps an actor state store is scoped to', () => {
    const actorStores = ofKind<{ spec: { metadata: { name: string; value?: string }[] }; scopes: string[] }>(
      objs,
      'Component',
    ).filter((c) => c.spec.metadata.some((m) => m.name === 'actorStateStore' && m.value === 'true'));
    const hosts = actorStores.flatMap((c) => c.scopes);
    expect(hosts).toEqual(['saga']);
    const deployments = ofKind<V1Deployment>(objs, 'Deployment');
    for (const d of deployments) {
      const annotations = d.spec?.template.metadata?.annotations ?? {};
      const app = annotations['dapr.io/app-id'] ?? '';
      if (hosts.includes(app)) {
        expect(annotations).not.toHaveProperty('dapr.io/placement-host-address');
        expect(annotations).not.toHaveProperty('dapr.io/scheduler-host-address');
      } else {
        expect(annotations['dapr.io/placement-host-address']).toBe('');
        expect(annotations['dapr.io/scheduler-host-address']).toBe('');
      }
    }
  });

  it('gives every app its own Dapr API token, for its sidecar and itself only', () => {
    const deployments = ofKind<V1Deployment>(objs, 'Deployment');
    expect(deployments).toHaveLength(8);
    for (const d of deployments) {
      const app = d.spec?.template.metadata?.annotations?.['dapr.io/app-id'] ?? '';
      const secret = `shop-${app}-dapr-api-token`;
      expect(d.spec?.template.metadata?.annotations?.['dapr.io/api-token-secret']).toBe(secret);
      const env = d.spec?.template.spec?.containers[0]?.env ?? [];
      expect(env.find((e) => e.name === 'DAPR_API_TOKEN')).toEqual({
        name: 'DAPR_API_TOKEN',
        valueFrom: { secretKeyRef: { name: secret, key: 'token' } },
      });
    }
    const names = generatedSecrets(ctx, countingMaterial()).map((g) => g.name);
    expect(names).toEqual(expect.arrayContaining([...APP_NAMES.map((a) => `shop-${a}-dapr-api-token`)]));
    // The edge's port is public: no app token to tell its sidecar's requests by.
    expect(names).not.toContain('shop-edge-app-token');
  });

  it('exposes the edge, and only the edge, through a Service', () => {
    const services = ofKind<V1Service>(objs, 'Service').filter((s) => s.spec?.clusterIP !== 'None');
    expect(services.map((s) => s.metadata.name)).toEqual(['shop-edge']);
    const edge = services[0];
    expect(edge?.spec?.type).toBe('ClusterIP');
    expect(edge?.spec?.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    const deployment = ofKind<V1Deployment>(objs, 'Deployment').find((d) => d.metadata.name === 'shop-edge');
    expect(deployment?.spec?.template.metadata?.labels).toMatchObject(edge?.spec?.selector ?? { none: 1 });
    const env = deployment?.spec?.template.spec?.containers[0]?.env ?? [];
    // No database, no cache, no app token: the Dapr API token only.
    expect(env.map((e) => e.name)).toEqual(['DAPR_API_TOKEN']);
    expect(deployment?.spec?.template.metadata?.annotations?.['dapr.io/app-token-secret']).toBeUndefined();
  });

  it('applies spec.edge: replicas, resources, env and image', () => {
    const custom = renderStack(
      contextFor({
        edge: {
          image: 'reg.local/edge@sha256:def',
          replicas: 2,
          resources: { limits: { memory: '128Mi' } },
          env: { EDGE_TIMEOUT_MS: '5000' },
        },
      }),
    );
    const edge = ofKind<V1Deployment>(custom, 'Deployment').find((d) => d.metadata.name === 'shop-edge');
    expect(edge?.spec?.replicas).toBe(2);
    expect(edge?.spec?.template.spec?.containers[0]?.image).toBe('reg.local/edge@sha256:def');
    expect(edge?.spec?.template.spec?.containers[0]?.resources).toEqual({ limits: { memory: '128Mi' } });
    const config = ofKind<{ data: Record<string, string> }>(custom, 'ConfigMap').find(
      (c) => c.metadata.name === 'shop-edge-config',
    );
    expect(config?.data.EDGE_TIMEOUT_MS).toBe('5000');
    const defaults = ofKind<V1Deployment>(objs, 'Deployment').find((d) => d.metadata.name === 'shop-edge');
    expect(defaults?.spec?.template.spec?.containers[0]?.resources).toEqual(DEFAULT_EDGE_RESOURCES);
  });

  it('reads connection strings with passwords from Secrets, never inlines them', () => {
    const order = ofKind<V1Deployment>(objs, 'Deployment').find((d) => d.metadata.name === 'shop-order');
    const env = order?.spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'DATABASE_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'shop-credentials',
      key: 'postgres-order',
    });
    const configMaps = ofKind<{ data: Record<string, string> }>(objs, 'ConfigMap');
    expect(JSON.stringify(configMaps)).not.toMatch(/postgres:\/\//);
    // FerretDB's PostgreSQL URL takes the password from the Secret through $(VAR) expansion.
    const ferret = ofKind<V1StatefulSet>(objs, 'StatefulSet').find((s) => s.metadata.name === 'shop-mongodb');
    const ferretEnv = ferret?.spec?.template.spec?.containers[0]?.env ?? [];
    expect(ferretEnv[0]).toEqual({
      name: 'ECOM_POSTGRES_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'shop-credentials', key: 'postgres-password' } },
    });
    expect(ferretEnv.find((e) => e.name === 'FERRETDB_POSTGRESQL_URL')?.value).toBe(
      'postgres://postgres:$(ECOM_POSTGRES_PASSWORD)@shop-postgres-0.shop-postgres.prod.svc:5432/ferretdb?sslmode=disable',
    );
  });

  it('applies per-service replicas, resources, env and image settings', () => {
    const custom = renderStack(
      contextFor({
        images: { registry: 'reg.local/x/', tag: 'sha-1', pullSecrets: ['regcred'] },
        services: {
          payment: { replicas: 3, resources: { limits: { cpu: '1' } }, env: { PROVIDER: 'fake' } },
        },
      }),
    );
    const payment = ofKind<V1Deployment>(custom, 'Deployment').find(
      (d) => d.metadata.name === 'shop-payment',
    );
    expect(payment?.spec?.replicas).toBe(3);
    expect(payment?.spec?.template.spec?.containers[0]?.resources).toEqual({ limits: { cpu: '1' } });
    expect(payment?.spec?.template.spec?.containers[0]?.image).toBe('reg.local/x/ecom-payment:sha-1');
    expect(payment?.spec?.template.spec?.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    const pinned = renderStack(contextFor({ services: { saga: { image: 'reg.local/saga@sha256:abc' } } }));
    const saga = ofKind<V1Deployment>(pinned, 'Deployment').find((d) => d.metadata.name === 'shop-saga');
    expect(saga?.spec?.template.spec?.containers[0]?.image).toBe('reg.local/saga@sha256:abc');
    const config = ofKind<{ data: Record<string, string> }>(custom, 'ConfigMap').find(
      (c) => c.metadata.name === 'shop-payment-config',
    );
    expect(config?.data.PROVIDER).toBe('fake');
  });

  it('rolls a new version one pod at a time, each new pod ready on /readyz before an old one goes', () => {
    const next = renderStack(contextFor({ version: '0.2.0' }));
    for (const d of ofKind<V1Deployment>(next, 'Deployment')) {
      expect(d.spec?.strategy).toEqual({
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
      });
      const container = d.spec?.template.spec?.containers[0];
      expect(container?.image).toMatch(/:0\.2\.0$/);
      expect(container?.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    }
  });

  it('stops a pod without refusing a request: the app outlasts its sidecar, the kubelet both', () => {
    const configs = ofKind<{ metadata: { name: string }; data: Record<string, string> }>(objs, 'ConfigMap');
    for (const d of ofKind<V1Deployment>(objs, 'Deployment')) {
      const pod = d.spec?.template;
      const block = parseInt(pod?.metadata?.annotations?.['dapr.io/block-shutdown-duration'] ?? '', 10);
      const drain = Number(pod?.metadata?.annotations?.['dapr.io/graceful-shutdown-seconds']);
      const config = configs.find((c) => c.metadata.name === `${d.metadata.name}-config`);
      const linger = Number(config?.data.SHUTDOWN_LINGER_MS) / 1000;
      const appDrain = Number(config?.data.SHUTDOWN_TIMEOUT_MS) / 1000;
      expect(block).toBeGreaterThan(0);
      expect(linger).toBeGreaterThan(block);
      expect(appDrain).toBeGreaterThan(0);
      expect(pod?.spec?.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
        Math.max(block + drain, linger + appDrain),
      );
    }
  });

  it("spreads each app's pods over the nodes, as a preference a single node still satisfies", () => {
    const deployments = ofKind<V1Deployment>(objs, 'Deployment');
    for (const d of deployments) {
      expect(d.spec?.template.spec?.topologySpreadConstraints).toEqual([
        {
          maxSkew: 1,
          topologyKey: 'kubernetes.io/hostname',
          whenUnsatisfiable: 'ScheduleAnyway',
          labelSelector: { matchLabels: d.spec?.selector.matchLabels },
          matchLabelKeys: ['pod-template-hash'],
        },
      ]);
      // It counts this app's pods, and no other app's.
      const selects = (labels: Record<string, string> = {}) =>
        Object.entries(d.spec?.selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
      expect(deployments.filter((o) => selects(o.spec?.template.metadata?.labels))).toEqual([d]);
    }
  });

  it('budgets disruptions of every app with two or more replicas to one pod at a time', () => {
    expect(ofKind(objs, 'PodDisruptionBudget')).toEqual([]);
    const scaled = renderStack(
      contextFor({
        services: {
          saga: { replicas: 2 },
          inventory: { replicas: 3 },
          order: { replicas: 1 },
          user: { replicas: 0 },
        },
        edge: { replicas: 2 },
      }),
    );
    const budgets = ofKind<V1PodDisruptionBudget>(scaled, 'PodDisruptionBudget');
    expect(budgets.map((b) => b.metadata.name)).toEqual(['shop-inventory', 'shop-saga', 'shop-edge']);
    const deployments = ofKind<V1Deployment>(scaled, 'Deployment');
    for (const b of budgets) {
      expect(b.apiVersion).toBe('policy/v1');
      expect(b.spec?.maxUnavailable).toBe(1);
      expect(b.spec?.minAvailable).toBeUndefined();
      expect(b.spec?.unhealthyPodEvictionPolicy).toBe('AlwaysAllow');
      // It selects exactly its Deployment's pods.
      const d = deployments.find((x) => x.metadata.name === b.metadata.name);
      expect(b.spec?.selector).toEqual(d?.spec?.selector);
    }
    // Each budget follows its Deployment, so the apply order keeps an app's objects together.
    const keys = scaled.map(objectKey);
    expect(keys.indexOf('policy/v1/PodDisruptionBudget/shop-saga')).toBe(
      keys.indexOf('apps/v1/Deployment/shop-saga') + 1,
    );
  });

  it('rolls pods when their configuration changes', () => {
    const hashOf = (spec: unknown) =>
      ofKind<V1Deployment>(renderStack(contextFor(spec)), 'Deployment').find(
        (d) => d.metadata.name === 'shop-auth',
      )?.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
    expect(hashOf({})).toBe(hashOf({}));
    expect(hashOf({ auth: { accessTokenTtl: '5m' } })).not.toBe(hashOf({}));
  });

  it("rolls an app's pods when a Dapr resource its sidecar loads changes (sidecars do not hot-reload)", () => {
    const hashesOf = (spec: unknown) =>
      new Map(
        ofKind<V1Deployment>(renderStack(contextFor(spec)), 'Deployment').map((d) => [
          d.metadata.name,
          d.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION],
        ]),
      );
    const before = hashesOf({});
    // Every app's own Configuration carries the sampling rate.
    const sampled = hashesOf({ dapr: { tracing: { samplingRate: '0.5' } } });
    for (const [name, hash] of before) expect(sampled.get(name)).not.toBe(hash);
    for (const config of ofKind<{ spec: { features: unknown } }>(objs, 'Configuration')) {
      expect(config.spec.features).toEqual([{ name: 'HotReload', enabled: false }]);
    }
  });

  it("gives the saga's sidecar the workflows' state retention of the spec, and rolls it when that changes", () => {
    type Config = { metadata: { name: string }; spec: { workflow?: { stateRetentionPolicy?: unknown } } };
    const sagaConfig = (spec: unknown) =>
      ofKind<Config>(renderStack(contextFor(spec)), 'Configuration').find((c) =>
        c.metadata.name.endsWith('-saga'),
      );
    expect(sagaConfig({})?.spec.workflow?.stateRetentionPolicy).toEqual({
      completed: '24h',
      failed: '720h',
      terminated: '720h',
    });
    const shorter = { dapr: { workflowRetention: { completed: '1h' } } };
    expect(sagaConfig(shorter)?.spec.workflow?.stateRetentionPolicy).toEqual({
      completed: '1h',
      failed: '720h',
      terminated: '720h',
    });
    const sagaHash = (spec: unknown) =>
      ofKind<V1Deployment>(renderStack(contextFor(spec)), 'Deployment').find(
        (d) => d.metadata.name === 'shop-saga',
      )?.spec?.template.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
    expect(sagaHash(shorter)).not.toBe(sagaHash({}));
  });

  it('runs managed Kafka (KRaft), PostgreSQL, FerretDB and Redis with volumes, as non-root', () => {
    const sets = ofKind<V1StatefulSet>(objs, 'StatefulSet');
    expect(sets.map((s) => s.metadata.name)).toEqual([
      'shop-kafka',
      'shop-postgres',
      'shop-mongodb',
      'shop-redis',
    ]);
    expect(sets.map((s) => s.spec?.template.spec?.containers[0]?.image)).toEqual([
      'ecom-micro/kafka:3.9.1',
      'ecom-micro/postgres:15',
      'ecom-micro/ferretdb:1.24.2',
      'ecom-micro/redis:7',
    ]);
    for (const s of sets) {
      expect(s.spec?.volumeClaimTemplates?.[0]?.spec?.resources?.requests?.storage).toMatch(/Gi|Mi/);
      expect(s.spec?.serviceName).toBe(s.metadata.name);
      expect(s.spec?.template.spec?.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(s.spec?.template.spec?.containers[0]?.securityContext).toEqual({
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
    }
    // Each image's own user, and the volume's group: kafka 1000, postgres 999, ferretdb 1000, redis 999.
    expect(sets.map((s) => s.spec?.template.spec?.securityContext?.runAsUser)).toEqual([
      1000, 999, 1000, 999,
    ]);
    expect(sets.map((s) => s.spec?.template.spec?.securityContext?.fsGroup)).toEqual([1000, 999, 1000, 999]);
    const kafkaEnv = sets[0]?.spec?.template.spec?.containers[0]?.env ?? [];
    expect(kafkaEnv).toEqual(
      expect.arrayContaining([
        { name: 'KAFKA_PROCESS_ROLES', value: 'broker,controller' },
        { name: 'KAFKA_LOG_DIRS', value: '/var/lib/kafka/data/logs' },
      ]),
    );
    const ferret = sets[2]?.spec?.template.spec?.containers[0];
    expect(ferret?.args).toBeUndefined();
    expect(ferret?.readinessProbe?.tcpSocket?.port).toBe('mongodb');
    expect(ferret?.volumeMounts).toEqual([{ name: 'data', mountPath: '/state' }]);
    expect(ferret?.env).toEqual(
      expect.arrayContaining([
        { name: 'FERRETDB_LISTEN_ADDR', value: ':27017' },
        { name: 'FERRETDB_STATE_DIR', value: '/state' },
        { name: 'FERRETDB_TELEMETRY', value: 'disable' },
      ]),
    );
    const init = ofKind<{ data: Record<string, string> }>(objs, 'ConfigMap').find(
      (c) => c.metadata.name === 'shop-postgres-init',
    );
    expect(init?.data['10-databases.sql']).toBe(
      'CREATE DATABASE "order";\nCREATE DATABASE "inventory";\nCREATE DATABASE "payment";\nCREATE DATABASE "saga";\nCREATE DATABASE "ferretdb";\n',
    );
    expect(kafkaClusterId(ctx.uid)).toHaveLength(22);
  });

  it("derives a Kafka cluster id that Kafka's tools take as a value, never as an option", () => {
    // The uid of a stack whose broker never started: its id began with '-'.
    const uid = 'fbd46970-2964-4da4-8ba2-e7f3945e3254';
    expect(Buffer.from(uid.replace(/-/g, ''), 'hex').toString('base64url')).toMatch(/^-/);
    const id = kafkaClusterId(uid);
    expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    expect(kafkaClusterId(uid)).toBe(id);
    // Every other uid keeps the id it had.
    const other = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
    expect(kafkaClusterId(other)).toBe(Buffer.from(other.replace(/-/g, ''), 'hex').toString('base64url'));
  });

  it('points the MongoDB services at whichever engine runs', () => {
    const mongoUrl = (spec: unknown) =>
      ofKind<V1Deployment>(renderStack(contextFor(spec)), 'Deployment')
        .find((d) => d.metadata.name === 'shop-auth')
        ?.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'MONGODB_URL');
    expect(mongoUrl({})).toEqual({
      name: 'MONGODB_URL',
      value: 'mongodb://shop-mongodb-0.shop-mongodb.prod.svc:27017/auth',
    });
    expect(mongoUrl({ infrastructure: { mongodb: { managed: { engine: 'mongodb' } } } })).toEqual({
      name: 'MONGODB_URL',
      value: 'mongodb://shop-mongodb-0.shop-mongodb.prod.svc:27017/auth?replicaSet=rs0',
    });
  });

  it('runs a real mongod as a one-member replica set with engine mongodb', () => {
    const mongo = renderStack(
      contextFor({ infrastructure: { mongodb: { managed: { engine: 'mongodb' } } } }),
    );
    const set = ofKind<V1StatefulSet>(mongo, 'StatefulSet').find((s) => s.metadata.name === 'shop-mongodb');
    const container = set?.spec?.template.spec?.containers[0];
    expect(container?.image).toBe('mongo:7.0');
    expect(container?.args).toEqual(['--replSet', 'rs0', '--bind_ip_all']);
    expect(container?.readinessProbe?.exec?.command?.[0]).toBe('mongosh');
    expect(container?.volumeMounts).toEqual([{ name: 'data', mountPath: '/data/db' }]);
    expect(set?.spec?.template.spec?.securityContext?.runAsUser).toBe(999);
    // The claim template stays the same, so switching engines is an update the API server accepts.
    const ferret = ofKind<V1StatefulSet>(objs, 'StatefulSet').find((s) => s.metadata.name === 'shop-mongodb');
    expect(set?.spec?.volumeClaimTemplates).toEqual(ferret?.spec?.volumeClaimTemplates);
  });

  it('runs no infrastructure for external backends and points at their Secrets', () => {
    const ext = renderStack(contextFor({ infrastructure: externalInfra }));
    expect(ofKind(ext, 'StatefulSet')).toEqual([]);
    const user = ofKind<V1Deployment>(ext, 'Deployment').find((d) => d.metadata.name === 'shop-user');
    const env = user?.spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'MONGODB_URL')?.valueFrom?.secretKeyRef).toEqual({
      name: 'mongo-conn',
      key: 'user',
    });
    expect(env.find((e) => e.name === 'ECOM_REDIS_ADDRESS')?.valueFrom?.secretKeyRef).toEqual({
      name: 'redis-conn',
      key: 'address',
    });
    expect(env.find((e) => e.name === 'REDIS_URL')?.value).toBe(
      'redis://:$(ECOM_REDIS_PASSWORD)@$(ECOM_REDIS_ADDRESS)',
    );
  });

  it('creates every catalogue topic and its dead-letter topic in a Job named after its content', () => {
    const job = ofKind<V1Job>(objs, 'Job')[0];
    const script = job?.spec?.template.spec?.containers[0]?.command?.[2] ?? '';
    const topics = stackTopics(ctx);
    expect(topics.map((t) => t.topic)).toEqual(
      expect.arrayContaining(['order_created', 'order_created_dlq', 'payment_success']),
    );
    const entries = /TOPICS="([^"]*)"/.exec(script)?.[1]?.split(' ') ?? [];
    expect(entries).toEqual(topics.map((t) => `${t.topic}:${t.partitions}`));
    expect(entries).toContain('order_created:3');
    // Dapr's outbox topics are named after the namespace and get their own partition count.
    expect(entries).toContain(`${ctx.namespace}orderorder_createdoutbox:4`);
    const other = ofKind<V1Job>(
      renderStack(contextFor({ infrastructure: { kafka: { partitions: 6 } } })),
      'Job',
    )[0];
    expect(other?.metadata.name).not.toBe(job?.metadata.name);
  });

  it('gives each event topic twice as many partitions as the most replicas of a service, or the spec count', () => {
    const eventPartitions = (spec: unknown) =>
      new Set(
        stackTopics(contextFor(spec))
          .filter((t) => t.kind === 'event')
          .map((t) => t.partitions),
      );
    const outboxPartitions = (spec: unknown) =>
      new Set(
        stackTopics(contextFor(spec))
          .filter((t) => t.kind === 'outbox')
          .map((t) => t.partitions),
      );
    // One replica each: the spec's 3 is already more than 2.
    expect(eventPartitions({})).toEqual(new Set([3]));
    // The kind values ask for 1; one replica of each service still gets 2, a roll's extra pod one.
    expect(eventPartitions({ infrastructure: { kafka: { partitions: 1 } } })).toEqual(new Set([2]));
    // Two replicas of every service: 4, two partitions per replica.
    const everyService = (replicas: number) =>
      Object.fromEntries(SERVICE_NAMES.map((s) => [s, { replicas }]));
    expect(eventPartitions({ services: everyService(2) })).toEqual(new Set([4]));
    // The most replicas decide; the edge consumes nothing and does not count.
    expect(
      eventPartitions({ services: { saga: { replicas: 5 }, order: { replicas: 2 } }, edge: { replicas: 9 } }),
    ).toEqual(new Set([10]));
    // A larger spec count stands.
    expect(
      eventPartitions({ services: everyService(2), infrastructure: { kafka: { partitions: 12 } } }),
    ).toEqual(new Set([12]));
    // Dapr's outbox topics keep their 4 (more than the spec's 3 for events) until the replicas ask for more.
    expect(outboxPartitions({})).toEqual(new Set([4]));
    expect(outboxPartitions({ services: everyService(3) })).toEqual(new Set([6]));
    expect(outboxPartitions({ services: { payment: { replicas: 10 } } })).toEqual(new Set([20]));
  });
});

describe('generated secrets', () => {
  const ctx = contextFor();

  it('holds a real ES256 key, in a <kid>.es256.json file named after its thumbprint', () => {
    const secret = buildSigningKeySecret(ctx, cryptoSecretMaterial);
    const [[fileName, content] = ['', '']] = Object.entries(secret.stringData);
    expect(Object.keys(secret.stringData)).toHaveLength(1);
    const file = JSON.parse(content) as SigningKeyFile;
    expect(fileName).toBe(signingKeyFileName(file.kid));
    expect(fileName).toMatch(/^[-._a-zA-Z0-9]+$/); // a valid Secret key
    const key = createPrivateKey({ key: file.privateJwk, format: 'jwk' });
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const { crv, kty, x, y } = file.privateJwk;
    const thumbprint = createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
    expect(file.kid).toBe(thumbprint);
    expect(Date.parse(file.createdAt)).not.toBeNaN();
  });

  it('gives each service its own database', () => {
    const secret = buildCredentialsSecret(ctx, countingMaterial());
    const data = secret.stringData;
    expect(data['postgres-order']).toMatch(
      /^postgres:\/\/postgres:t1.*@shop-postgres-0\.shop-postgres\.prod\.svc:5432\/order\?/,
    );
    expect(data['postgres-saga']).toMatch(/\/saga\?/);
    // MongoDB URIs carry no password and follow the engine: inline, not in the Secret.
    expect(Object.keys(data).filter((k) => k.startsWith('mongodb'))).toEqual([]);
    expect(data['redis-password']).toMatch(/^t2/);
  });
});
