import type { KubernetesObject, V1Deployment, V1Job, V1StatefulSet } from '@kubernetes/client-node';
import { API_VERSION, KIND, type Condition, type EcomStack, type EcomStackSpec } from '../api/ecom-stack';
import { resolveSpec } from '../api/resolve-spec';
import {
  CacheNotSyncedError,
  isNotFound,
  type ClusterClient,
  type ClusterReader,
} from '../kube/cluster-client';
import { names, STACK_LABEL, type RenderContext, type Rendered } from '../render/context';
import { DAPR_API_VERSION } from '../render/dapr';
import { BACKENDS } from '../render/infrastructure';
import { objectKey, renderStack } from '../render/render-stack';
import { generatedSecrets, type SecretMaterial } from '../render/secrets';
import { APP_NAMES } from '../render/service-catalog';
import { buildTopicsJob } from '../render/topics-job';
import { findDaprControlPlane } from './dapr-control-plane';
import { deploymentReadiness, jobReadiness, statefulSetReadiness } from './readiness';
import { oneRollAtATime } from './rollout';
import { computeStatus, type Observation } from './status';
import type { ReconcileResult } from './work-queue';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface ReconcilerDeps {
  /** The API server: every write, and the few reads the cache cannot serve (each says why). */
  client: ClusterClient;
  /** The informers' caches: the EcomStacks and their children, read without an API call. */
  cache: ClusterReader;
  material: SecretMaterial;
  clock: () => Date;
  log: Logger;
  /** How often a settled stack is reconciled anyway. */
  resyncMs?: number;
}

/** Kinds the operator creates, in the order it prunes what a spec change left behind. */
export const OWNED_KINDS: readonly { apiVersion: string; kind: string }[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: DAPR_API_VERSION, kind: 'Component' },
  { apiVersion: DAPR_API_VERSION, kind: 'Configuration' },
  { apiVersion: DAPR_API_VERSION, kind: 'Resiliency' },
  { apiVersion: 'dapr.io/v2alpha1', kind: 'Subscription' },
];

const byName = <T extends KubernetesObject>(items: T[]) =>
  new Map(items.map((i) => [i.metadata?.name ?? '', i]));

const isDapr = (o: { apiVersion?: string }) => o.apiVersion?.startsWith('dapr.io/') ?? false;

/** The children of one stack: what its informers select, narrowed to this stack. */
const childrenOf = (ctx: RenderContext) => `${STACK_LABEL}=${ctx.name}`;

/** The server's answers to this reconcile's applies, by objectKey. */
type Applied = ReadonlyMap<string, KubernetesObject>;

/**
 * Level-triggered reconcile of one EcomStack: reads it, renders the
 * desired children, applies them (server-side apply, one field manager, so
 * drift is reverted), prunes what is no longer desired, and writes the
 * conditions rolled up from the children. Never throws for a bad spec: that is
 * reported in status; throws only for failures worth retrying with backoff.
 * It reads from the informers' caches (see InformerCache for why a moment's lag
 * is correct) and writes to the API server.
 */
export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    if (!namespace || !name) return {};
    // Its status may lag this reconciler's last write: a condition that changed then would count as
    // changing again, its lastTransitionTime moved by that lag. Its spec cannot lag an earlier reconcile's.
    const stack = await this.deps.cache.get<EcomStack>({
      apiVersion: API_VERSION,
      kind: KIND,
      namespace,
      name,
    });
    // Gone: its children carry owner references, so garbage collection removes them.
    if (!stack || stack.metadata.deletionTimestamp) return {};
    const generation = stack.metadata.generation ?? 0;
    const previous = stack.status?.conditions ?? [];

    const duplicateOf = await this.olderStackIn(stack);
    if (duplicateOf) {
      await this.writeStatus(stack, { generation, version: '', duplicateOf }, previous);
      return {};
    }
    const resolved = resolveSpec(stack.spec);
    if (!resolved.ok) {
      this.deps.log.warn('invalid EcomStack spec', { key, problems: resolved.problems });
      await this.writeStatus(stack, { generation, version: '', specProblems: resolved.problems }, previous);
      return {};
    }
    const ctx: RenderContext = { name, namespace, uid: stack.metadata.uid, spec: resolved.spec };
    const obs: Observation = { generation, version: resolved.spec.version };

    const desired = renderStack(ctx);
    const applied = new Map<string, KubernetesObject>();
    let retryable: Error | undefined;
    try {
      await this.ensureGeneratedSecrets(ctx);
      const daprMissing = await this.applyAll(await this.startable(ctx, desired), applied);
      if (daprMissing) obs.daprMissing = daprMissing;
      await this.prune(ctx, desired, daprMissing === undefined);
    } catch (e) {
      // Not a failure to report: the reconcile waits (backs off) until the cache has listed.
      if (e instanceof CacheNotSyncedError) throw e;
      retryable = e instanceof Error ? e : new Error(String(e));
      obs.applyError = retryable.message;
    }
    obs.missingSecrets = await this.missingSecrets(ctx.namespace, referencedSecrets(resolved.spec));
    await this.observe(ctx, obs, applied);
    await this.writeStatus(stack, obs, previous);
    if (retryable !== undefined) throw retryable;
    // Missing Dapr (CRDs or control plane) or Secrets are not reported by any watch: look again later.
    const waiting =
      obs.daprMissing !== undefined ||
      obs.daprControlPlane?.state === 'absent' ||
      obs.missingSecrets.length > 0;
    return { requeueAfterMs: waiting ? 15_000 : (this.deps.resyncMs ?? 5 * 60_000) };
  }

  /**
   * One EcomStack per namespace: Dapr app ids and component names are per namespace. The oldest wins.
   * A stack created just before this one may not be in the cache yet, so both act for a moment, as two
   * created within the same second (creationTimestamp's grain) did with a live list. It does not last:
   * this stack's first status write is an event of the same watch, which delivers events in order,
   * after the older stack's; the reconcile that event brings finds the older stack.
   */
  private async olderStackIn(stack: EcomStack): Promise<string | undefined> {
    const all = await this.deps.cache.list<EcomStack>(API_VERSION, KIND, stack.metadata.namespace);
    const rank = (s: EcomStack) =>
      `${new Date(s.metadata.creationTimestamp ?? 0).toISOString()}/${s.metadata.name}`;
    const oldest = all
      .filter((s) => !s.metadata.deletionTimestamp)
      .sort((a, b) => rank(a).localeCompare(rank(b)))[0];
    return oldest && oldest.metadata.name !== stack.metadata.name ? oldest.metadata.name : undefined;
  }

  /**
   * Generated Secrets are created once and never re-applied (a regenerated password would lock the data out).
   * Secrets are read live, by name: the operator may get and create them but not list or watch them
   * (least privilege: a watch would hold every Secret of the namespace), so no informer caches them.
   */
  private async ensureGeneratedSecrets(ctx: RenderContext): Promise<void> {
    const { client, material } = this.deps;
    const generated = generatedSecrets(ctx, material);
    for (const { name, build } of generated) {
      const existing = await client.get({ apiVersion: 'v1', kind: 'Secret', namespace: ctx.namespace, name });
      // createIfAbsent, not apply: a concurrent creator wins and its values stay.
      if (!existing) await client.createIfAbsent(build());
    }
  }

  /**
   * What may be applied now. An app's Deployment is first created only once the infrastructure
   * answers and the topics exist: a sidecar started earlier fails its pub/sub component and crash-loops
   * (the edge's has no component, but it only forwards to the services, so it opens with them).
   * A Deployment that exists is always kept up to date (a backend's restart never removes services),
   * but it gains replicas only once the infrastructure is ready too: more replicas come with more
   * partitions (eventTopicPartitions), and a consumer that joins its group before they exist leaves
   * them unread until the group's next metadata refresh (minutes); joining after, it rebalances the
   * group over all of them. Fewer replicas never wait.
   * The watched StatefulSets and Job wake this reconcile when they become ready.
   * Their readiness comes from the cache: a new topic plan is a Job of a new name, not ready until the
   * cache has seen it done, so no Deployment grows early; a backend that stopped being ready a moment
   * ago is what a running stack lives with anyway. The held Deployments are read live: a hold keeps
   * the replicas each one has, and a cache a moment behind this reconciler's own last apply (replicas
   * raised while the infrastructure was ready) would hold at the old count and scale the Deployment
   * down. Holding is the rare case (the infrastructure not ready), so the steady state reads nothing live.
   * Pod template changes roll one app at a time (oneRollAtATime).
   */
  private async startable(ctx: RenderContext, desired: Rendered[]): Promise<Rendered[]> {
    const infra: Observation = { generation: 0, version: '' };
    await this.observeInfrastructure(ctx, infra, new Map());
    const appDeployments = new Set(APP_NAMES.map((app) => names.service(ctx, app)));
    // From the cache: one a moment behind this reconciler's last apply re-applies that Deployment (it is
    // the first changed one in order until the cache shows its new template, and then it is rolling)
    // and holds the rest, so it never lets two rolls start.
    const cached = await this.children<V1Deployment & KubernetesObject>(
      ctx,
      'apps/v1',
      'Deployment',
      new Map(),
    );
    const gated = oneRollAtATime(desired, cached, appDeployments);
    if ((infra.infrastructure ?? []).every((part) => part.ready)) return gated;
    const existing = byName(
      await this.deps.client.list<V1Deployment & KubernetesObject>(
        'apps/v1',
        'Deployment',
        ctx.namespace,
        childrenOf(ctx),
      ),
    );
    return gated.flatMap((o): Rendered[] => {
      if (o.kind !== 'Deployment' || !appDeployments.has(o.metadata.name)) return [o];
      const live = existing.get(o.metadata.name);
      if (!live) return [];
      const running = live.spec?.replicas ?? 1;
      if (((o as V1Deployment).spec?.replicas ?? 1) <= running) return [o];
      const held = structuredClone(o) as V1Deployment & Rendered;
      if (held.spec) held.spec.replicas = running;
      return [held];
    });
  }

  /**
   * Applies every object, keeping the server's answers in `applied`; returns why the Dapr resources
   * could not be applied, if their CRDs are missing.
   */
  private async applyAll(
    desired: Rendered[],
    applied: Map<string, KubernetesObject>,
  ): Promise<string | undefined> {
    let daprMissing: string | undefined;
    for (const obj of desired) {
      if (isDapr(obj) && daprMissing) continue;
      try {
        applied.set(objectKey(obj), await this.deps.client.apply(obj));
      } catch (e) {
        if (isDapr(obj) && isNotFound(e)) {
          daprMissing = `Dapr's CRDs are not installed (${obj.kind} ${obj.apiVersion}); install the Dapr control plane`;
          continue;
        }
        throw e;
      }
    }
    return daprMissing;
  }

  /**
   * Deletes children of this stack that the current spec no longer renders. From the cache: a child it
   * has not seen yet is pruned by the reconcile its creation event brings; one it still holds after its
   * deletion is deleted again, which is no error. And the spec it prunes against is never older than
   * one an earlier reconcile applied, so nothing a newer spec wants is pruned.
   */
  private async prune(ctx: RenderContext, desired: Rendered[], daprInstalled: boolean): Promise<void> {
    const wanted = new Set(desired.map(objectKey));
    for (const { apiVersion, kind } of OWNED_KINDS) {
      if (!daprInstalled && isDapr({ apiVersion })) continue;
      let existing: KubernetesObject[];
      try {
        existing = await this.deps.cache.list(apiVersion, kind, ctx.namespace, childrenOf(ctx));
      } catch (e) {
        // The kind is not served (a CRD not installed): nothing of it to prune.
        if (isNotFound(e)) continue;
        throw e;
      }
      for (const obj of existing) {
        const ownedByUs =
          obj.metadata?.ownerReferences?.some((o) => o.uid === ctx.uid && o.controller === true) ?? false;
        if (!ownedByUs || wanted.has(objectKey(obj)) || !obj.metadata?.name) continue;
        this.deps.log.info('pruning', { kind, name: obj.metadata.name });
        await this.deps.client.delete({
          apiVersion,
          kind,
          namespace: ctx.namespace,
          name: obj.metadata.name,
        });
      }
    }
  }

  /** The user's Secrets are read live, as the generated ones are (no Secret is listed or watched). */
  private async missingSecrets(namespace: string, secretNames: string[]): Promise<string[]> {
    const missing: string[] = [];
    for (const name of secretNames) {
      const found = await this.deps.client.get({ apiVersion: 'v1', kind: 'Secret', namespace, name });
      if (!found) missing.push(name);
    }
    return missing;
  }

  private async observe(ctx: RenderContext, obs: Observation, applied: Applied): Promise<void> {
    const deployments = await this.children<V1Deployment & KubernetesObject>(
      ctx,
      'apps/v1',
      'Deployment',
      applied,
    );
    obs.services = APP_NAMES.map((app) => ({
      name: app,
      ...deploymentReadiness(deployments.get(names.service(ctx, app))),
    }));
    await this.observeInfrastructure(ctx, obs, applied);
    // Live: a cluster-scoped object the operator may get by name only, so no informer caches it.
    obs.daprControlPlane = await findDaprControlPlane(this.deps.client);
  }

  /** Readiness of each managed backend and of the topics Job. */
  private async observeInfrastructure(ctx: RenderContext, obs: Observation, applied: Applied): Promise<void> {
    const infra: Observation['infrastructure'] = [];
    const managed = BACKENDS.filter((b) => ctx.spec.infrastructure[b].mode === 'managed');
    if (managed.length > 0) {
      const sets = await this.children<V1StatefulSet & KubernetesObject>(
        ctx,
        'apps/v1',
        'StatefulSet',
        applied,
      );
      for (const b of managed)
        infra.push({ name: b, ...statefulSetReadiness(sets.get(names.infra(ctx, b))) });
    }
    const jobs = await this.children<V1Job & KubernetesObject>(ctx, 'batch/v1', 'Job', applied);
    // The Job of the current topic plan, not an earlier one (still there until this reconcile prunes it).
    const planned = buildTopicsJob(ctx).metadata.name;
    const topicsJob = [...jobs.values()].find(
      (j) => j.metadata?.name === planned && j.metadata.ownerReferences?.some((o) => o.uid === ctx.uid),
    );
    infra.push({ name: 'kafka-topics', ...jobReadiness(topicsJob) });
    obs.infrastructure = infra;
  }

  /**
   * This stack's children of one kind, by name, from the cache; each replaced by the server's answer to
   * this reconcile's own apply when that is of a later generation. The cache may not have seen that
   * apply yet, and a Deployment or StatefulSet whose new spec it has not seen looks rolled out: the
   * status would call a change Ready before its rollout began. Generations only grow, so the later one
   * is the newer spec; on a tie the cache's copy may carry a newer status.
   */
  private async children<T extends KubernetesObject>(
    ctx: RenderContext,
    apiVersion: string,
    kind: string,
    applied: Applied,
  ): Promise<Map<string, T>> {
    const found = byName(await this.deps.cache.list<T>(apiVersion, kind, ctx.namespace, childrenOf(ctx)));
    const generation = (o: KubernetesObject) => o.metadata?.generation ?? 0;
    for (const answer of applied.values()) {
      const name = answer.metadata?.name;
      if (answer.apiVersion !== apiVersion || answer.kind !== kind || !name) continue;
      const cached = found.get(name);
      if (!cached || generation(answer) > generation(cached)) found.set(name, answer as T);
    }
    return found;
  }

  private async writeStatus(
    stack: EcomStack,
    obs: Observation,
    previous: readonly Condition[],
  ): Promise<void> {
    const status = computeStatus(obs, previous, this.deps.clock());
    await this.deps.client.applyStatus(
      { apiVersion: API_VERSION, kind: KIND, namespace: stack.metadata.namespace, name: stack.metadata.name },
      status,
    );
  }
}

/** Secrets the spec points at (and the operator does not generate). */
export function referencedSecrets(spec: EcomStackSpec): string[] {
  const infra = spec.infrastructure;
  const out = new Set<string>();
  if (infra.kafka.mode === 'external' && infra.kafka.external)
    out.add(infra.kafka.external.brokersSecretRef.name);
  if (infra.postgres.mode === 'external' && infra.postgres.external)
    out.add(infra.postgres.external.secretName);
  if (infra.mongodb.mode === 'external' && infra.mongodb.external) out.add(infra.mongodb.external.secretName);
  if (infra.redis.mode === 'external' && infra.redis.external) {
    out.add(infra.redis.external.addressSecretRef.name);
    if (infra.redis.external.passwordSecretRef) out.add(infra.redis.external.passwordSecretRef.name);
  }
  const smtp = spec.notification.email.smtp;
  if (spec.notification.email.provider === 'smtp' && smtp?.credentialsSecretName)
    out.add(smtp.credentialsSecretName);
  for (const s of spec.images.pullSecrets) out.add(s);
  return [...out];
}
