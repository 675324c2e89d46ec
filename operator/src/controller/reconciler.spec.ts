import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { API_VERSION, KIND, type EcomStack } from '../api/ecom-stack';
import { CacheNotSyncedError, KubeApiError } from '../kube/cluster-client';
import { countingMaterial, daprInjectorWebhook, externalInfra } from '../testing/fixtures';
import { MemoryCluster } from '../testing/memory-cluster';
import { Reconciler, type Logger } from './reconciler';

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const UID = '11111111-2222-3333-4444-555555555555';

function stack(spec: unknown, name = 'shop', uid = UID, createdAt = '2026-01-01T00:00:00Z'): EcomStack {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace: 'prod', uid, generation: 2, creationTimestamp: new Date(createdAt) },
    spec,
  };
}

function setup(spec: unknown = {}) {
  const cluster = new MemoryCluster();
  cluster.put(stack(spec));
  cluster.put(daprInjectorWebhook());
  const material = countingMaterial();
  const reconciler = new Reconciler({
    client: cluster,
    cache: cluster.cache,
    material,
    clock: () => new Date('2026-01-01T00:00:00Z'),
    log: quiet,
  });
  const status = async (name = 'shop') => {
    const s = await cluster.get<EcomStack>({ apiVersion: API_VERSION, kind: KIND, namespace: 'prod', name });
    return Object.fromEntries((s?.status?.conditions ?? []).map((c) => [c.type, c]));
  };
  return { cluster, material, reconciler, status };
}

const count = (cluster: MemoryCluster, kind: string) =>
  [...cluster.objects.values()].filter((o) => o.kind === kind).length;

/** What the StatefulSet and Job controllers would report once every backend is up and the topics exist. */
function markInfrastructureReady(cluster: MemoryCluster): void {
  for (const o of cluster.objects.values()) {
    const generation = (o.metadata as { generation?: number }).generation ?? 0;
    if (o.kind === 'StatefulSet') {
      (o as { status?: unknown }).status = { observedGeneration: generation, readyReplicas: 1, replicas: 1 };
    }
    if (o.kind === 'Job') (o as { status?: unknown }).status = { succeeded: 1 };
  }
}

describe('Reconciler', () => {
  it('applies the infrastructure first, the apps once it is ready, and reports progress', async () => {
    const { cluster, reconciler, status } = setup();
    const result = await reconciler.reconcile('prod/shop');
    expect(count(cluster, 'Deployment')).toBe(0);
    markInfrastructureReady(cluster);
    await reconciler.reconcile('prod/shop');
    expect(count(cluster, 'Deployment')).toBe(8);
    expect(count(cluster, 'StatefulSet')).toBe(4);
    // pubsub, the actor store, and one outbox state store per event of order and of payment.
    expect(count(cluster, 'Component')).toBe(8);
    // Credentials, the signing key, an app API token per service, a Dapr API token per app (edge too).
    expect(count(cluster, 'Secret')).toBe(17);
    expect(count(cluster, 'NetworkPolicy')).toBe(12);
    expect(count(cluster, 'Configuration')).toBe(8);
    const c = await status();
    expect(c.Progressing).toMatchObject({ status: 'True', observedGeneration: 2 });
    expect(c.Ready?.status).toBe('False');
    expect(result.requeueAfterMs).toBeGreaterThan(0);
  });

  it('generates Secrets once and never overwrites them', async () => {
    const { cluster, material, reconciler } = setup();
    await reconciler.reconcile('prod/shop');
    const generated = material.calls;
    await reconciler.reconcile('prod/shop');
    expect(material.calls).toBe(generated);
    expect(cluster.writes.filter((w) => w.verb === 'create')).toHaveLength(17);
  });

  it('reports an invalid spec in a condition without throwing or applying anything', async () => {
    const { cluster, reconciler, status } = setup({ infrastructure: { postgres: { mode: 'external' } } });
    await expect(reconciler.reconcile('prod/shop')).resolves.toEqual({});
    expect(count(cluster, 'Deployment')).toBe(0);
    expect((await status()).Degraded).toMatchObject({ status: 'True', reason: 'InvalidSpec' });
  });

  it('keeps the services it created while a backend is not ready', async () => {
    const { cluster, reconciler } = setup();
    await reconciler.reconcile('prod/shop');
    markInfrastructureReady(cluster);
    await reconciler.reconcile('prod/shop');
    for (const o of cluster.objects.values())
      if (o.kind === 'StatefulSet') delete (o as { status?: unknown }).status;
    await reconciler.reconcile('prod/shop');
    expect(count(cluster, 'Deployment')).toBe(8);
  });

  it('prunes children the spec no longer renders', async () => {
    const { cluster, reconciler } = setup();
    await reconciler.reconcile('prod/shop');
    markInfrastructureReady(cluster);
    expect(count(cluster, 'StatefulSet')).toBe(4);
    cluster.put(stack({ infrastructure: externalInfra }));
    await reconciler.reconcile('prod/shop');
    expect(count(cluster, 'StatefulSet')).toBe(0);
    // External Kafka is a new topic plan: the apps start once its Job has run, not on the old one's word.
    expect(count(cluster, 'Job')).toBe(1);
    expect(count(cluster, 'Deployment')).toBe(0);
    markInfrastructureReady(cluster);
    await reconciler.reconcile('prod/shop');
    expect(count(cluster, 'Deployment')).toBe(8);
  });

  it('grows a Deployment only once the topics of the new partition count exist', async () => {
    const { cluster, reconciler, status } = setup();
    await reconciler.reconcile('prod/shop');
    markInfrastructureReady(cluster);
    await reconciler.reconcile('prod/shop');
    const replicas = () =>
      [...cluster.objects.values()]
        .filter((o) => o.kind === 'Deployment')
        .map((o) => [o.metadata?.name, (o as { spec?: { replicas?: number } }).spec?.replicas]);
    const job = () => [...cluster.objects.values()].find((o) => o.kind === 'Job')?.metadata?.name;
    const before = job();
    cluster.put(stack({ services: { saga: { replicas: 2 } } }));
    await reconciler.reconcile('prod/shop');
    // A new Job (4 partitions per event topic), the old one pruned; saga stays at 1 meanwhile ...
    expect(job()).not.toBe(before);
    expect(replicas()).toContainEqual(['shop-saga', 1]);
    expect((await status()).InfrastructureReady).toMatchObject({ status: 'False' });
    markInfrastructureReady(cluster);
    await reconciler.reconcile('prod/shop');
    // ... and grows once it has run. Fewer replicas never wait.
    expect(replicas()).toContainEqual(['shop-saga', 2]);
    cluster.put(stack({ services: { saga: { replicas: 1 }, order: { replicas: 0 } } }));
    await reconciler.reconcile('prod/shop');
    expect(replicas()).toEqual(
      expect.arrayContaining([
        ['shop-saga', 1],
        ['shop-order', 0],
      ]),
    );
  });

  it('adds a PodDisruptionBudget when an app reaches two replicas and prunes it below two', async () => {
    const { cluster, reconciler } = setup({ services: { saga: { replicas: 2 } }, edge: { replicas: 2 } });
    await reconciler.reconcile('prod/shop');
    markInfrastructureReady(cluster);
    await reconciler.reconcile('prod/shop');
    const budgets = () =>
      [...cluster.objects.values()]
        .filter((o) => o.apiVersion === 'policy/v1' && o.kind === 'PodDisruptionBudget')
        .map((o) => o.metadata?.name);
    expect(budgets()).toEqual(['shop-saga', 'shop-edge']);
    cluster.put(stack({ services: { saga: { replicas: 1 } }, edge: { replicas: 2 } }));
    await reconciler.reconcile('prod/shop');
    expect(budgets()).toEqual(['shop-edge']);
    expect(cluster.writes).toContainEqual({
      verb: 'delete',
      key: 'policy/v1/PodDisruptionBudget/prod/shop-saga',
    });
    expect(count(cluster, 'Deployment')).toBe(8);
  });

  it('reports missing referenced Secrets until they exist', async () => {
    const { cluster, reconciler, status } = setup({ infrastructure: externalInfra });
    const result = await reconciler.reconcile('prod/shop');
    expect((await status()).InfrastructureReady).toMatchObject({ status: 'False', reason: 'MissingSecret' });
    expect(result.requeueAfterMs).toBe(15_000);
    for (const name of ['kafka-conn', 'pg-conn', 'mongo-conn', 'redis-conn']) {
      cluster.put({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'prod' } });
    }
    await reconciler.reconcile('prod/shop');
    expect((await status()).InfrastructureReady?.reason).not.toBe('MissingSecret');
  });

  it('still applies the services when Dapr is not installed, and says so', async () => {
    const { cluster, reconciler, status } = setup();
    cluster.unknownApiVersions.add('dapr.io/v1alpha1');
    cluster.unknownApiVersions.add('dapr.io/v2alpha1');
    await reconciler.reconcile('prod/shop');
    markInfrastructureReady(cluster);
    await reconciler.reconcile('prod/shop');
    expect(count(cluster, 'Deployment')).toBe(8);
    expect((await status()).DaprComponentsReady).toMatchObject({
      status: 'False',
      reason: 'DaprNotInstalled',
    });
  });

  it("reports Dapr's control plane: its version and namespace, or its absence until it comes", async () => {
    const { cluster, reconciler, status } = setup();
    await reconciler.reconcile('prod/shop');
    expect((await status()).DaprInstalled).toMatchObject({
      status: 'True',
      reason: 'Found',
      message: expect.stringContaining('Dapr 1.18.1 in namespace dapr-system'),
    });
    const read = () =>
      cluster.get<EcomStack>({ apiVersion: API_VERSION, kind: KIND, namespace: 'prod', name: 'shop' });
    expect((await read())?.status?.daprVersion).toBe('1.18.1');

    await cluster.delete({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      name: 'dapr-sidecar-injector',
    });
    const result = await reconciler.reconcile('prod/shop');
    const c = await status();
    expect(c.DaprInstalled).toMatchObject({ status: 'False', reason: 'DaprNotInstalled' });
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'DaprNotInstalled' });
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'DaprNotInstalled' });
    expect((await read())?.status?.daprVersion).toBeUndefined();
    expect(result.requeueAfterMs).toBe(15_000);
  });

  it("does not hold Ready back when it may not look for Dapr's control plane, and says why", async () => {
    const { cluster, reconciler, status } = setup();
    const get = cluster.get.bind(cluster);
    cluster.get = (ref) =>
      ref.kind === 'MutatingWebhookConfiguration'
        ? Promise.reject(new KubeApiError(403, 'Forbidden', '403 forbidden'))
        : get(ref);
    await reconciler.reconcile('prod/shop');
    const c = await status();
    expect(c.DaprInstalled).toMatchObject({ status: 'Unknown', reason: 'CannotCheck' });
    expect(c.Degraded?.status).toBe('False');
  });

  it('counts the edge among the apps it reports ready', async () => {
    const { cluster, reconciler } = setup();
    await reconciler.reconcile('prod/shop');
    markInfrastructureReady(cluster);
    await reconciler.reconcile('prod/shop');
    for (const o of cluster.objects.values()) {
      if (o.kind !== 'Deployment' || o.metadata?.name === 'shop-edge') continue;
      const generation = (o.metadata as { generation?: number }).generation ?? 0;
      (o as { status?: unknown }).status = {
        observedGeneration: generation,
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
      };
    }
    await reconciler.reconcile('prod/shop');
    const s = await cluster.get<EcomStack>({
      apiVersion: API_VERSION,
      kind: KIND,
      namespace: 'prod',
      name: 'shop',
    });
    expect(s?.status?.readyServices).toBe('7/8');
    const ready = s?.status?.conditions?.find((c) => c.type === 'ServicesReady');
    expect(ready).toMatchObject({ status: 'False', message: expect.stringContaining('edge:') });
  });

  it('leaves a second stack in the namespace alone and says why', async () => {
    const { cluster, reconciler, status } = setup();
    cluster.put(stack({}, 'late', '99999999-2222-3333-4444-555555555555', '2026-02-01T00:00:00Z'));
    await reconciler.reconcile('prod/late');
    expect(count(cluster, 'Deployment')).toBe(0);
    expect((await status('late')).Degraded).toMatchObject({ reason: 'DuplicateInNamespace' });
  });

  it('throws (so the queue backs off) when an apply fails, after writing the condition', async () => {
    const { cluster, reconciler, status } = setup();
    cluster.apply = () => Promise.reject(new Error('admission webhook said no'));
    await expect(reconciler.reconcile('prod/shop')).rejects.toThrow('admission webhook said no');
    expect((await status()).Degraded).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
  });

  it('reads the stack and its children from the cache: live, in the steady state, only Secrets and Dapr’s injector', async () => {
    const { cluster, reconciler } = setup();
    await reconciler.reconcile('prod/shop');
    markInfrastructureReady(cluster);
    await reconciler.reconcile('prod/shop');
    cluster.liveReads.length = 0;
    await reconciler.reconcile('prod/shop');
    // Neither may be listed or watched (least privilege), so no informer holds them.
    const kindOf = (key: string) => key.split('/').at(-3);
    expect(new Set(cluster.liveReads.map((r) => `${r.verb} ${kindOf(r.key) ?? ''}`))).toEqual(
      new Set(['get Secret', 'get MutatingWebhookConfiguration']),
    );
  });

  it('holds a Deployment at the replicas it has, not at a lagging cache’s count', async () => {
    const { cluster, reconciler } = setup({ services: { saga: { replicas: 2 } } });
    await reconciler.reconcile('prod/shop');
    markInfrastructureReady(cluster);
    await reconciler.reconcile('prod/shop');
    const saga = () => cluster.objects.get('apps/v1/Deployment/prod/shop-saga') as V1Deployment;
    expect(saga().spec?.replicas).toBe(2);
    // The cache has not seen saga grow yet, and a backend stops being ready.
    const lagging = structuredClone(saga());
    if (lagging.spec) lagging.spec.replicas = 1;
    const list = cluster.cache.list.bind(cluster.cache);
    cluster.cache.list = async <T extends KubernetesObject>(...args: Parameters<typeof list>) =>
      (await list<T>(...args)).map((o) => (o.metadata?.name === 'shop-saga' ? (lagging as T) : o));
    for (const o of cluster.objects.values())
      if (o.kind === 'StatefulSet') delete (o as { status?: unknown }).status;
    await reconciler.reconcile('prod/shop');
    expect(saga().spec?.replicas).toBe(2);
  });

  it('does not call a change Ready while the cache still shows the rolled-out spec before it', async () => {
    const { cluster, reconciler, status } = setup();
    await reconciler.reconcile('prod/shop');
    markInfrastructureReady(cluster);
    await reconciler.reconcile('prod/shop');
    for (const o of cluster.objects.values()) {
      if (o.kind !== 'Deployment') continue;
      (o as { status?: unknown }).status = {
        observedGeneration: o.metadata?.generation,
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
      };
    }
    await reconciler.reconcile('prod/shop');
    expect((await status()).Ready?.status).toBe('True');
    // A new image: applied, but the cache still holds every Deployment as it was.
    const before = await cluster.cache.list('apps/v1', 'Deployment', 'prod');
    const list = cluster.cache.list.bind(cluster.cache);
    cluster.cache.list = async <T extends KubernetesObject>(...args: Parameters<typeof list>) =>
      args[1] === 'Deployment' ? (structuredClone(before) as T[]) : list<T>(...args);
    cluster.put(stack({ services: { order: { image: 'registry.example/order:2' } } }));
    await reconciler.reconcile('prod/shop');
    const c = await status();
    expect(c.Ready?.status).toBe('False');
    expect(c.ServicesReady?.message).toContain('order: rollout not observed yet');
  });

  it('waits, without a word in the status, for a cache that has not listed yet', async () => {
    const { cluster, reconciler } = setup();
    const list = cluster.cache.list.bind(cluster.cache);
    cluster.cache.list = async <T extends KubernetesObject>(...args: Parameters<typeof list>) => {
      if (args[1] === 'NetworkPolicy') throw new CacheNotSyncedError('NetworkPolicy not listed yet');
      return list<T>(...args);
    };
    await expect(reconciler.reconcile('prod/shop')).rejects.toThrow(CacheNotSyncedError);
    expect(cluster.writes.filter((w) => w.verb === 'status')).toEqual([]);
  });

  it('does nothing for a stack that is gone', async () => {
    const { cluster, reconciler } = setup();
    await expect(reconciler.reconcile('prod/nope')).resolves.toEqual({});
    expect(cluster.writes).toEqual([]);
  });
});
