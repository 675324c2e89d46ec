import {
  AuthorizationV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
  type V1Deployment,
} from '@kubernetes/client-node';
import { API_VERSION, KIND, SERVICE_NAMES, type Condition, type EcomStack } from '../src/api/ecom-stack';
import { resolveSpec } from '../src/api/resolve-spec';
import type { Controller } from '../src/controller/controller';
import { LeaderElector } from '../src/controller/leader-election';
import { KubeApiError } from '../src/kube/cluster-client';
import { KubeClusterClient } from '../src/kube/kube-cluster-client';
import { FIELD_MANAGER, STACK_LABEL, type Rendered } from '../src/render/context';
import { objectKey, renderStack } from '../src/render/render-stack';
import { daprInjectorWebhook } from '../src/testing/fixtures';
import {
  admin,
  adminKubeConfig,
  createNamespace,
  deleteNamespace,
  eventually,
  helmTemplate,
  serviceAccountKubeConfig,
  startOperator,
} from './helpers';

/**
 * The operator against a real kube-apiserver + etcd + kube-controller-manager,
 * running as its own ServiceAccount with the chart's RBAC (so every permission
 * it needs is proven to be granted, and nothing more is granted).
 */
const client = admin();
let ns: string;
let operatorKc: KubeConfig;
let controller: Controller;
let clusterWide: KubernetesObject[] = [];
let madeWebhook = false;
const STACK = 'shop';
const TEST_LABEL = 'ecom-micro.io/test';

/**
 * Dapr's sidecar injector registration as Dapr's chart makes it (its version label, its service), for
 * the operator to find; its one webhook selects no pod, so the pods of this cluster's other tests are
 * created as before.
 */
const injector = () => {
  const webhook = daprInjectorWebhook('1.18.1', 'dapr-system');
  webhook.metadata.labels = { ...webhook.metadata.labels, [TEST_LABEL]: 'true' };
  webhook.webhooks = webhook.webhooks.map((w) => ({
    ...w,
    failurePolicy: 'Ignore',
    objectSelector: { matchLabels: { 'ecom-micro.io/test-selects-nothing': 'true' } },
  }));
  return webhook;
};
const injectorRef = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'MutatingWebhookConfiguration',
  name: 'dapr-sidecar-injector',
};

/** An edit of the stack that changes no spec: its watch event makes the operator look again now. */
async function poke(): Promise<void> {
  await KubernetesObjectApi.makeApiClient(adminKubeConfig()).patch(
    {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: {
        namespace: ns,
        name: STACK,
        annotations: { 'ecom-micro.io/test-poke': String(Date.now()) },
      },
    },
    undefined,
    undefined,
    'someone-else',
    undefined,
    PatchStrategy.MergePatch,
  );
}

type Stack = EcomStack & { metadata: { managedFields?: { manager: string }[] } };

const stackRef = () => ({ apiVersion: API_VERSION, kind: KIND, namespace: ns, name: STACK });
const getStack = () => client.get<Stack>(stackRef());
const conditionsOf = (s: EcomStack | undefined): Record<string, Condition> =>
  Object.fromEntries((s?.status?.conditions ?? []).map((c) => [c.type, c]));

/** What the operator should have rendered for the stack as it is now. */
async function desired(): Promise<Rendered[]> {
  const stack = await getStack();
  if (!stack) throw new Error('stack not found');
  const resolved = resolveSpec(stack.spec);
  if (!resolved.ok) throw new Error(resolved.problems.join('; '));
  return renderStack({ name: STACK, namespace: ns, uid: stack.metadata.uid, spec: resolved.spec });
}

async function applyStack(spec: unknown): Promise<void> {
  await client.apply({ apiVersion: API_VERSION, kind: KIND, metadata: { name: STACK, namespace: ns }, spec });
}

async function children(): Promise<KubernetesObject[]> {
  const kinds = [
    ['apps/v1', 'Deployment'],
    ['apps/v1', 'StatefulSet'],
    ['v1', 'Service'],
    ['v1', 'ConfigMap'],
    ['v1', 'Secret'],
    ['batch/v1', 'Job'],
    ['networking.k8s.io/v1', 'NetworkPolicy'],
    ['dapr.io/v1alpha1', 'Component'],
    ['dapr.io/v1alpha1', 'Configuration'],
    ['dapr.io/v1alpha1', 'Resiliency'],
  ] as const;
  const lists = await Promise.all(kinds.map(([v, k]) => client.list(v, k, ns, `${STACK_LABEL}=${STACK}`)));
  return lists.flat();
}

/**
 * Marks the stack's workloads as rolled out, as a kubelet and the workload controllers would: every
 * workload, or only the infrastructure (StatefulSets and the topics Job).
 */
async function markReady(only: 'all' | 'infrastructure' = 'all'): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const o of await desired()) {
    if (only === 'infrastructure' && o.kind === 'Deployment') continue;
    const ref = { apiVersion: o.apiVersion, kind: o.kind, namespace: ns, name: o.metadata.name };
    const live = await client.get<
      KubernetesObject & { spec?: { replicas?: number }; status?: { completionTime?: string } }
    >(ref);
    if (!live) throw new Error(`${objectKey(o)} missing`);
    const generation = live.metadata?.generation ?? 1;
    const replicas = live.spec?.replicas ?? 1;
    if (o.kind === 'Deployment') {
      await client.applyStatus(ref, {
        observedGeneration: generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
      });
    } else if (o.kind === 'StatefulSet') {
      await client.applyStatus(ref, {
        observedGeneration: generation,
        replicas,
        readyReplicas: replicas,
        currentReplicas: replicas,
        updatedReplicas: replicas,
        availableReplicas: replicas,
      });
    } else if (o.kind === 'Job' && live.status?.completionTime === undefined) {
      await client.applyStatus(ref, {
        startTime: now,
        completionTime: now,
        succeeded: 1,
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: now, lastTransitionTime: now },
          { type: 'Complete', status: 'True', lastProbeTime: now, lastTransitionTime: now },
        ],
      });
    }
  }
}

beforeAll(async () => {
  ns = await createNamespace(client, 'op');
  // The chart's ServiceAccount and RBAC, as `helm install` would create them (the cluster-wide part is
  // named after the release namespace, so it is this test's own).
  const chart = helmTemplate(ns);
  for (const obj of chart) {
    const kind = obj.kind ?? '';
    if (['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].includes(kind))
      await client.apply(obj);
  }
  clusterWide = chart.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding');
  // This test's own (or one an interrupted run of it left), never a real Dapr's.
  const existing = await client.get(injectorRef);
  madeWebhook = existing === undefined || existing.metadata?.labels?.[TEST_LABEL] === 'true';
  if (madeWebhook) await client.apply(injector());
  const saName = chart.find((o) => o.kind === 'ServiceAccount')?.metadata?.name;
  if (!saName) throw new Error('the chart renders no ServiceAccount');
  operatorKc = await serviceAccountKubeConfig(ns, saName);
  controller = await startOperator(operatorKc, [ns]);
});

afterAll(async () => {
  await controller.stop();
  await deleteNamespace(client, ns);
  for (const o of clusterWide)
    await client.delete({ apiVersion: o.apiVersion ?? '', kind: o.kind ?? '', name: o.metadata?.name ?? '' });
  if (madeWebhook) await client.delete(injectorRef);
});

describe('the operator on a real API server', () => {
  it('creates every child with an owner reference and its own field manager', async () => {
    await applyStack({});
    // The services wait for their backends and topics: a sidecar started earlier crash-loops.
    await eventually('infrastructure applied', async () => {
      const d = (await desired()).filter((o) => o.kind !== 'Deployment');
      const have = new Set((await children()).map(objectKey));
      return d.every((o) => have.has(objectKey(o))) ? d : undefined;
    });
    expect(await client.list('apps/v1', 'Deployment', ns, `${STACK_LABEL}=${STACK}`)).toEqual([]);
    await markReady('infrastructure');
    const want = await eventually('children applied', async () => {
      const d = await desired();
      const have = new Set((await children()).map(objectKey));
      return d.every((o) => have.has(objectKey(o))) ? d : undefined;
    });
    const stack = await getStack();
    for (const o of want) {
      const live = await client.get<KubernetesObject>({
        apiVersion: o.apiVersion,
        kind: o.kind,
        namespace: ns,
        name: o.metadata.name,
      });
      expect(live?.metadata?.ownerReferences).toEqual([
        expect.objectContaining({ uid: stack?.metadata.uid, controller: true }),
      ]);
      expect(
        live?.metadata?.managedFields?.some((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply'),
      ).toBe(true);
    }
    const secrets = await client.list('v1', 'Secret', ns, `${STACK_LABEL}=${STACK}`);
    expect(secrets.map((s) => s.metadata?.name).sort()).toEqual(
      [
        'shop-credentials',
        'shop-signing-key',
        ...SERVICE_NAMES.map((s) => `shop-${s}-app-token`),
        ...[...SERVICE_NAMES, 'edge'].map((a) => `shop-${a}-dapr-api-token`),
      ].sort(),
    );
  });

  it('reports progress, then rolls the children up into Ready', async () => {
    const progressing = await eventually('Progressing', async () => {
      const c = conditionsOf(await getStack());
      return c.Progressing?.status === 'True' ? c : undefined;
    });
    expect(progressing.Ready?.status).toBe('False');
    expect(progressing.DaprComponentsReady?.status).toBe('True');

    await markReady();
    const ready = await eventually('Ready', async () => {
      const s = await getStack();
      return conditionsOf(s).Ready?.status === 'True' ? s : undefined;
    });
    const c = conditionsOf(ready);
    expect(c.ServicesReady?.status).toBe('True');
    expect(c.InfrastructureReady?.status).toBe('True');
    expect(c.Degraded?.status).toBe('False');
    expect(c.Progressing?.status).toBe('False');
    expect(c.Ready?.observedGeneration).toBe(ready.metadata.generation);
    expect(ready.status?.readyServices).toBe('8/8');
    // Found through the chart's ClusterRole, which lets it read this one object.
    expect(c.DaprInstalled).toMatchObject({
      status: 'True',
      reason: 'Found',
      message: expect.stringContaining('Dapr 1.18.1 in namespace dapr-system'),
    });
    expect(ready.status?.daprVersion).toBe('1.18.1');
  });

  it("reports Dapr's control plane gone, holding Ready back, and found again", async () => {
    if (!madeWebhook) return; // a real Dapr in this cluster: not this test's to remove
    await client.delete(injectorRef);
    await poke();
    const gone = await eventually('DaprNotInstalled', async () => {
      const conditions = conditionsOf(await getStack());
      return conditions.DaprInstalled?.status === 'False' ? conditions : undefined;
    });
    expect(gone.Degraded).toMatchObject({ status: 'True', reason: 'DaprNotInstalled' });
    expect(gone.Ready).toMatchObject({ status: 'False', reason: 'DaprNotInstalled' });
    expect(gone.DaprInstalled?.message).toContain('no MutatingWebhookConfiguration dapr-sidecar-injector');
    await client.apply(injector());
    // No watch sees it come back: the operator looks again 15 s after it found none.
    await eventually(
      'Ready again',
      async () => conditionsOf(await getStack()).Ready?.status === 'True',
      40_000,
    );
  });

  it('turns Ready off when a service loses its pods', async () => {
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'shop-payment' };
    await client.applyStatus(ref, {
      observedGeneration: 1,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 0,
      availableReplicas: 0,
    });
    const c = await eventually('Ready=False', async () => {
      const conditions = conditionsOf(await getStack());
      return conditions.Ready?.status === 'False' ? conditions : undefined;
    });
    expect(c.ServicesReady?.message).toContain('payment: 0/1 ready');
    await markReady();
    await eventually('Ready again', async () => conditionsOf(await getStack()).Ready?.status === 'True');
  });

  it('restores a deleted child', async () => {
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'shop-order' };
    const before = await client.get(ref);
    await client.delete(ref);
    const after = await eventually('deployment recreated', async () => {
      const d = await client.get(ref);
      return d && d.metadata?.uid !== before?.metadata?.uid ? d : undefined;
    });
    expect(after.metadata?.ownerReferences?.[0]?.name).toBe(STACK);
  });

  it('reverts a child edited by someone else', async () => {
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'shop-order-config' };
    const dref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'shop-inventory' };
    // Someone else's edits: merge patches under another field manager.
    const someoneElse = KubernetesObjectApi.makeApiClient(adminKubeConfig());
    const edit = (r: typeof ref, change: object) =>
      someoneElse.patch(
        {
          apiVersion: r.apiVersion,
          kind: r.kind,
          metadata: { namespace: r.namespace, name: r.name },
          ...change,
        },
        undefined,
        undefined,
        'someone-else',
        undefined,
        PatchStrategy.MergePatch,
      );
    await edit(ref, { data: { APP_PORT: '9999' } });
    await edit(dref, { spec: { replicas: 5 } });
    await eventually(
      'config reverted',
      async () =>
        (await client.get<{ data: Record<string, string> } & KubernetesObject>(ref))?.data.APP_PORT ===
        '4004',
    );
    await eventually(
      'replicas reverted',
      async () => (await client.get<V1Deployment & KubernetesObject>(dref))?.spec?.replicas === 1,
    );
  });

  it('applies a spec change and prunes what it no longer needs', async () => {
    await applyStack({
      services: { order: { replicas: 3 } },
      infrastructure: {
        kafka: { mode: 'external', external: { brokersSecretRef: { name: 'kafka-conn', key: 'brokers' } } },
      },
    });
    // More replicas mean more partitions: order grows once the new topic plan's Job has run (this
    // control plane has no Job controller, so the Job is marked as run once the operator made it).
    await eventually('the new topics Job applied and run', async () => {
      await markReady('infrastructure');
      return true;
    });
    const dref = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'shop-order' };
    await eventually(
      'replicas 3',
      async () => (await client.get<V1Deployment & KubernetesObject>(dref))?.spec?.replicas === 3,
    );
    await eventually(
      'managed Kafka pruned',
      async () =>
        (await client.get({
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          namespace: ns,
          name: 'shop-kafka',
        })) === undefined,
    );
    const c = await eventually('missing Secret reported', async () => {
      const s = await getStack();
      const conditions = conditionsOf(s);
      return conditions.InfrastructureReady?.reason === 'MissingSecret' &&
        conditions.Ready?.observedGeneration === s?.metadata.generation
        ? conditions
        : undefined;
    });
    expect(c.InfrastructureReady?.message).toContain('kafka-conn');
    await client.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'kafka-conn', namespace: ns },
      stringData: { brokers: 'kafka.example:9092' },
    });
    await eventually(
      'Secret found',
      async () => conditionsOf(await getStack()).InfrastructureReady?.reason !== 'MissingSecret',
      40_000,
    );
  });

  it('reports a spec the schema accepts but the operator cannot use, and recovers when it is fixed', async () => {
    await applyStack({ services: { order: { env: { 'NOT-A-NAME': 'x' } } } });
    const c = await eventually('InvalidSpec', async () => {
      const conditions = conditionsOf(await getStack());
      return conditions.Degraded?.reason === 'InvalidSpec' ? conditions : undefined;
    });
    expect(c.Degraded?.message).toContain('spec.services.order.env.NOT-A-NAME');
    expect(c.Ready?.status).toBe('False');
    await applyStack({});
    await eventually(
      'valid again',
      async () => conditionsOf(await getStack()).Degraded?.reason !== 'InvalidSpec',
    );
  });

  it('lets the schema reject what it can', async () => {
    const bad = async (spec: unknown) => {
      try {
        await client.apply({
          apiVersion: API_VERSION,
          kind: KIND,
          metadata: { name: 'bad', namespace: ns },
          spec,
        });
        return 'accepted';
      } catch (e) {
        return e instanceof KubeApiError ? `${e.status}: ${e.message}` : String(e);
      }
    };
    expect(await bad({ services: { order: { replicas: -1 } } })).toMatch(
      /^422: .*spec.services.order.replicas/,
    );
    expect(await bad({ infrastructure: { redis: { mode: 'cloud' } } })).toMatch(
      /^422: .*Unsupported value: "cloud"/,
    );
    // CEL rules blame the field the operator's own parse blames (their fieldPath).
    expect(await bad({ infrastructure: { postgres: { mode: 'external' } } })).toMatch(
      /^422: .*spec\.infrastructure\.postgres\.external\.secretName: Required value: required when mode is external/,
    );
    expect(await bad({ notification: { email: { provider: 'smtp' } } })).toMatch(
      /^422: .*spec\.notification\.email\.smtp\.host: Required value/,
    );
    expect(await bad({ auth: { accessTokenTtl: '2h' } })).toMatch(/^422: .*must be from 1s to 1h/);
    expect(await bad({ dapr: { mtls: false } })).toMatch(/^422: .*mTLS cannot be turned off/);
    expect(await bad({ auth: { accessTokenTtl: 'forever' } })).toMatch(/^422: .*accessTokenTtl/);
  });

  it('reports a second EcomStack in the namespace instead of fighting over it', async () => {
    await client.apply({
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: 'other', namespace: ns },
      spec: {},
    });
    const c = await eventually('duplicate reported', async () => {
      const s = await client.get<EcomStack>({ ...stackRef(), name: 'other' });
      const conditions = conditionsOf(s);
      return conditions.Degraded?.reason === 'DuplicateInNamespace' ? conditions : undefined;
    });
    expect(c.Degraded?.message).toContain('shop');
    expect(
      await client.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'other-order' }),
    ).toBeUndefined();
    await client.delete({ ...stackRef(), name: 'other' });
  });

  it('holds its Lease and cannot read Secrets outside its namespace', async () => {
    const asOperator = new KubeClusterClient(operatorKc);
    const elector = new LeaderElector(asOperator, {
      namespace: ns,
      name: 'ecom-operator',
      identity: 'test',
      leaseDurationSec: 15,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    expect(await elector.tryAcquireOrRenew()).toBe(true);
    const can = async (attributes: Record<string, string>) => {
      const review = await operatorKc.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: { resourceAttributes: attributes },
        },
      });
      return review.status?.allowed;
    };
    expect(await can({ verb: 'get', resource: 'secrets', namespace: ns })).toBe(true);
    expect(await can({ verb: 'list', resource: 'secrets', namespace: ns })).toBe(false);
    expect(await can({ verb: 'list', resource: 'secrets' })).toBe(false);
    expect(await can({ verb: 'get', resource: 'secrets', namespace: 'kube-system' })).toBe(false);
    expect(await can({ verb: 'create', resource: 'clusterroles', group: 'rbac.authorization.k8s.io' })).toBe(
      false,
    );
    // Cluster-wide it reads Dapr's injector registration by name, and no other.
    const webhooks = { group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations' };
    expect(await can({ ...webhooks, verb: 'get', name: 'dapr-sidecar-injector' })).toBe(true);
    expect(await can({ ...webhooks, verb: 'get', name: 'someone-elses' })).toBe(false);
    expect(await can({ ...webhooks, verb: 'list' })).toBe(false);
    expect(await can({ ...webhooks, verb: 'patch', name: 'dapr-sidecar-injector' })).toBe(false);
  });

  it('leaves garbage collection to remove every child when the stack is deleted', async () => {
    expect((await children()).length).toBeGreaterThan(20);
    await client.delete(stackRef());
    await eventually('children collected', async () => (await children()).length === 0, 100_000);
  });
});
