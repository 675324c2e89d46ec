import type { KubernetesObject } from '@kubernetes/client-node';
import {
  KubeApiError,
  type ApplyOptions,
  type ClusterClient,
  type ClusterReader,
  type ObjectRef,
} from '../kube/cluster-client';

/**
 * An in-memory ClusterClient for unit specs of the reconciler and the leader
 * elector. It keeps objects by apiVersion/kind/namespace/name and records every
 * write and every live read; it does not pretend to be an API server (no
 * defaulting, no GC). `cache` reads the same objects as synced informers would.
 */
export class MemoryCluster implements ClusterClient {
  readonly objects = new Map<string, KubernetesObject>();
  readonly writes: { verb: string; key: string }[] = [];
  /** Reads through the client itself (live API calls); a list's key has no name. */
  readonly liveReads: { verb: 'get' | 'list'; key: string }[] = [];
  /** The reader of informers that have listed everything: not recorded as live reads. */
  readonly cache: ClusterReader = {
    get: (ref) => this.read(ref),
    list: (apiVersion, kind, namespace, labelSelector) =>
      this.select(apiVersion, kind, namespace, labelSelector),
  };
  /** apiVersions the "server" does not know (as if their CRDs were missing). */
  readonly unknownApiVersions = new Set<string>();
  private version = 0;

  static key(ref: ObjectRef): string {
    return `${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
  }

  private refOf(obj: KubernetesObject): ObjectRef {
    return {
      apiVersion: obj.apiVersion ?? '',
      kind: obj.kind ?? '',
      name: obj.metadata?.name ?? '',
      ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}),
    };
  }

  private check(apiVersion: string, kind: string): void {
    if (this.unknownApiVersions.has(apiVersion))
      throw new KubeApiError(404, 'NotFound', `no ${kind} in ${apiVersion}`);
  }

  private stamp<T extends KubernetesObject>(obj: T): T {
    this.version += 1;
    const copy = structuredClone(obj);
    if (copy.metadata) copy.metadata.resourceVersion = String(this.version);
    return copy;
  }

  put(obj: KubernetesObject): void {
    this.objects.set(MemoryCluster.key(this.refOf(obj)), this.stamp(structuredClone(obj)));
  }

  apply<T extends KubernetesObject>(obj: T, options: ApplyOptions = {}): Promise<T> {
    const ref = this.refOf(obj);
    this.check(ref.apiVersion, ref.kind);
    if (options.dryRun) return Promise.resolve(obj);
    const key = MemoryCluster.key(ref);
    const existing = this.objects.get(key) as (T & { spec?: unknown; status?: unknown }) | undefined;
    const next = this.stamp({
      ...structuredClone(obj),
      ...(existing?.status === undefined ? {} : { status: existing.status }),
    });
    // The API server's generation: 1 at creation, one more at each change of the spec.
    const generation = existing?.metadata?.generation ?? 0;
    // As on the wire: an absent field and one set to undefined are the same.
    const changed = JSON.stringify(existing?.spec) !== JSON.stringify((obj as { spec?: unknown }).spec);
    if (next.metadata) next.metadata.generation = changed ? generation + 1 : generation;
    this.objects.set(key, next);
    this.writes.push({ verb: 'apply', key });
    return Promise.resolve(next);
  }

  createIfAbsent(obj: KubernetesObject): Promise<boolean> {
    const key = MemoryCluster.key(this.refOf(obj));
    if (this.objects.has(key)) return Promise.resolve(false);
    this.objects.set(key, this.stamp(structuredClone(obj)));
    this.writes.push({ verb: 'create', key });
    return Promise.resolve(true);
  }

  replace<T extends KubernetesObject>(obj: T): Promise<T> {
    const key = MemoryCluster.key(this.refOf(obj));
    const existing = this.objects.get(key);
    if (!existing) return Promise.reject(new KubeApiError(404, 'NotFound', key));
    if (existing.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
      return Promise.reject(new KubeApiError(409, 'Conflict', `${key} was modified`));
    }
    const next = this.stamp(structuredClone(obj));
    this.objects.set(key, next);
    this.writes.push({ verb: 'replace', key });
    return Promise.resolve(next);
  }

  get<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    this.liveReads.push({ verb: 'get', key: MemoryCluster.key(ref) });
    return this.read(ref);
  }

  list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector?: string,
  ): Promise<T[]> {
    this.liveReads.push({ verb: 'list', key: MemoryCluster.key({ apiVersion, kind, namespace, name: '' }) });
    return this.select(apiVersion, kind, namespace, labelSelector);
  }

  private read<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    this.check(ref.apiVersion, ref.kind);
    const found = this.objects.get(MemoryCluster.key(ref));
    return Promise.resolve(found === undefined ? undefined : (structuredClone(found) as T));
  }

  private select<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector?: string,
  ): Promise<T[]> {
    this.check(apiVersion, kind);
    const [labelKey, labelValue] = labelSelector?.split('=') ?? [];
    const items = [...this.objects.values()].filter(
      (o) =>
        o.apiVersion === apiVersion &&
        o.kind === kind &&
        o.metadata?.namespace === namespace &&
        (labelKey === undefined || o.metadata.labels?.[labelKey] === labelValue),
    );
    return Promise.resolve(items.map((o) => structuredClone(o) as T));
  }

  delete(ref: ObjectRef): Promise<void> {
    this.check(ref.apiVersion, ref.kind);
    const key = MemoryCluster.key(ref);
    if (this.objects.delete(key)) this.writes.push({ verb: 'delete', key });
    return Promise.resolve();
  }

  applyStatus(ref: ObjectRef, status: unknown): Promise<void> {
    const key = MemoryCluster.key(ref);
    const existing = this.objects.get(key);
    if (!existing) return Promise.reject(new KubeApiError(404, 'NotFound', key));
    this.objects.set(key, this.stamp({ ...existing, status } as KubernetesObject));
    this.writes.push({ verb: 'status', key });
    return Promise.resolve();
  }
}
