import type { KubernetesObject, V1Deployment, V1Job, V1StatefulSet } from '@kubernetes/client-node';
import { API_VERSION, KIND, type Condition, type EcomStack, type EcomStackSpec } from '../api/ecom-stack';
import { resolveSpec } from '../api/resolve-spec';
import { isNotFound, KubeApiError, type ClusterClient } from '../kube/cluster-client';
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
  client: ClusterClient;
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

/**
 * Level-triggered reconcile of one EcomStack: reads it fresh, renders the
 * desired children, applies them (server-side apply, one field manager, so
 * drift is reverted), prunes what is no longer desired, and writes the
 * conditions rolled up from the children. Never throws for a bad spec: that is
 * reported in status; throws only for failures worth retrying with backoff.
 */
export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    if (!namespace || !name) return {};
    const { client } = this.deps;
    const stack = await client.get<EcomStack>({ apiVersion: API_VERSION, kind: KIND, namespace, name });
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
    let retryable: Error | undefined;
    try {
      await this.ensureGeneratedSecrets(ctx);
      const daprMissing = await this.applyAll(await this.startable(ctx, desired));
      if (daprMissing) obs.daprMissing = daprMissing;
      await this.prune(ctx, desired, daprMissing === undefined);
    } catch (e) {
      retryable = e instanceof Error ? e : new Error(String(e));
      obs.applyError = retryable.message;
    }
    obs.missingSecrets = await this.missingSecrets(ctx.namespace, referencedSecrets(resolved.spec));
    await this.observe(ctx, obs);
    await this.writeStatus(stack, obs, previous);
    if (retryable !== undefined) throw retryable;
    // Missing Dapr (CRDs or control plane) or Secrets are not reported by any watch: look again later.
    const waiting =
      obs.daprMissing !== undefined ||
      obs.daprControlPlane?.state === 'absent' ||
      obs.missingSecrets.length > 0;
    return { requeueAfterMs: waiting ? 15_000 : (this.deps.resyncMs ?? 5 * 60_000) };
  }

  /** One EcomStack per namespace: Dapr app ids and component names are per namespace. The oldest wins. */
  private async olderStackIn(stack: EcomStack): Promise<string | undefined> {
    const all = await this.deps.client.list<EcomStack>(API_VERSION, KIND, stack.metadata.namespace);
    const rank = (s: EcomStack) =>
      `${new Date(s.metadata.creationTimestamp ?? 0).toISOString()}/${s.metadata.name}`;
    const oldest = all
      .filter((s) => !s.metadata.deletionTimestamp)
      .sort((a, b) => rank(a).localeCompare(rank(b)))[0];
    return oldest && oldest.metadata.name !== stack.metadata.name ? oldest.metadata.name : undefined;
  }

  /** Generated Secrets are created once and never re-applied (a regenerated password would lock the data out). */
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
   * group over all of them. Fewer replicas never wait. Pod template changes roll one app at a time
   * (oneRollAtATime).
   * The watched StatefulSets and Job wake this reconcile when they become ready.
   */
  private async startable(ctx: RenderContext, desired: Rendered[]): Promise<Rendered[]> {
    const infra: Observation = { generation: 0, version: '' };
    await this.observeInfrastructure(ctx, infra);
    const appDeployments = new Set(APP_NAMES.map((app) => names.service(ctx, app)));
    const existing = byName(
      await this.deps.client.list<V1Deployment & KubernetesObject>(
        'apps/v1',
        'Deployment',
        ctx.namespace,
        `${STACK_LABEL}=${ctx.name}`,
      ),
    );
    const gated = oneRollAtATime(desired, existing, appDeployments);
    if ((infra.infrastructure ?? []).every((part) => part.ready)) return gated;
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

  /** Applies every object; returns why the Dapr resources could not be applied, if their CRDs are missing. */
  private async applyAll(desired: Rendered[]): Promise<string | undefined> {
    let daprMissing: string | undefined;
    for (const obj of desired) {
      if (isDapr(obj) && daprMissing) continue;
      try {
        await this.deps.client.apply(obj);
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

  /** Deletes children of this stack that the current spec no longer renders. */
  private async prune(ctx: RenderContext, desired: Rendered[], daprInstalled: boolean): Promise<void> {
    const wanted = new Set(desired.map(objectKey));
    for (const { apiVersion, kind } of OWNED_KINDS) {
      if (!daprInstalled && isDapr({ apiVersion })) continue;
      let existing: KubernetesObject[];
      try {
        existing = await this.deps.client.list(apiVersion, kind, ctx.namespace, `${STACK_LABEL}=${ctx.name}`);
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 404) continue;
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

  private async missingSecrets(namespace: string, secretNames: string[]): Promise<string[]> {
    const missing: string[] = [];
    for (const name of secretNames) {
      const found = await this.deps.client.get({ apiVersion: 'v1', kind: 'Secret', namespace, name });
      if (!found) missing.push(name);
    }
    return missing;
  }

  private async observe(ctx: RenderContext, obs: Observation): Promise<void> {
    const { client } = this.deps;
    const selector = `${STACK_LABEL}=${ctx.name}`;
    const deployments = byName(
      await client.list<V1Deployment & KubernetesObject>('apps/v1', 'Deployment', ctx.namespace, selector),
    );
    obs.services = APP_NAMES.map((app) => ({
      name: app,
      ...deploymentReadiness(deployments.get(names.service(ctx, app))),
    }));
    await this.observeInfrastructure(ctx, obs);
    obs.daprControlPlane = await findDaprControlPlane(client);
  }

  /** Readiness of each managed backend and of the topics Job. */
  private async observeInfrastructure(ctx: RenderContext, obs: Observation): Promise<void> {
    const { client } = this.deps;
    const selector = `${STACK_LABEL}=${ctx.name}`;
    const infra: Observation['infrastructure'] = [];
    const managed = BACKENDS.filter((b) => ctx.spec.infrastructure[b].mode === 'managed');
    if (managed.length > 0) {
      const sets = byName(
        await client.list<V1StatefulSet & KubernetesObject>(
          'apps/v1',
          'StatefulSet',
          ctx.namespace,
          selector,
        ),
      );
      for (const b of managed)
        infra.push({ name: b, ...statefulSetReadiness(sets.get(names.infra(ctx, b))) });
    }
    const jobs = await client.list<V1Job & KubernetesObject>('batch/v1', 'Job', ctx.namespace, selector);
    // The Job of the current topic plan, not an earlier one (still there until this reconcile prunes it).
    const planned = buildTopicsJob(ctx).metadata.name;
    const topicsJob = jobs.find(
      (j) => j.metadata?.name === planned && j.metadata.ownerReferences?.some((o) => o.uid === ctx.uid),
    );
    infra.push({ name: 'kafka-topics', ...jobReadiness(topicsJob) });
    obs.infrastructure = infra;
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
