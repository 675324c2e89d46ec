import type { Informer, KubernetesObject, ObjectCache } from '@kubernetes/client-node';

/** A failed API call, with the HTTP status and the API server's reason. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/**
 * A cache read of a kind whose informer has not listed yet. Not an empty answer: a reconcile that took
 * it for one would report every child missing and create what exists. The reconcile fails instead and
 * the work queue retries it with backoff: reconciles wait for the caches, as controller-runtime's
 * workers wait for theirs to sync.
 */
export class CacheNotSyncedError extends Error {
  override readonly name = 'CacheNotSyncedError';
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.status === 404;
export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.status === 409;

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface ApplyOptions {
  dryRun?: boolean;
  /** Take over fields another manager owns: the operator is the source of truth of its children. */
  force?: boolean;
}

/**
 * Reads of objects. Two sources serve it: the API server itself (ClusterClient), and the informers'
 * caches (InformerCache), which the reconciler reads from.
 */
export interface ClusterReader {
  /** The object, or undefined when it does not exist. */
  get<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined>;
  /**
   * Fails with a 404 KubeApiError while the kind is unknown to the server (its CRD not installed); a
   * cache fails with CacheNotSyncedError until it has listed the kind.
   */
  list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector?: string,
  ): Promise<T[]>;
}

/**
 * The small port the controller talks to the cluster through: easy to fake in
 * unit tests, and one real implementation (KubeClusterClient) for any cluster.
 * Its reads are live calls to the API server.
 */
export interface ClusterClient extends ClusterReader {
  /** Server-side apply with the operator's field manager. */
  apply<T extends KubernetesObject>(obj: T, options?: ApplyOptions): Promise<T>;
  /** Creates the object; returns false when it already exists (left untouched). */
  createIfAbsent(obj: KubernetesObject): Promise<boolean>;
  /** PUT with the object's resourceVersion: fails with 409 when someone else wrote first. */
  replace<T extends KubernetesObject>(obj: T): Promise<T>;
  /** Deletes with background propagation; a missing object is not an error. */
  delete(ref: ObjectRef): Promise<void>;
  /** Server-side apply of the status subresource. */
  applyStatus(ref: ObjectRef, status: unknown): Promise<void>;
}

/** One kind in one namespace, optionally narrowed by a label selector. */
export interface WatchedKind {
  apiVersion: string;
  kind: string;
  namespace: string;
  labelSelector?: string;
}

/** An informer and the store its list and watch keep: get(name, namespace) and list(namespace). */
export type CachingInformer = Informer<KubernetesObject> & ObjectCache<KubernetesObject>;

/**
 * What the controller needs of the cluster: an informer (list, then watch) per kind.
 * Apart from ClusterClient, so the reconciler's fakes need not pretend to watch.
 */
export interface ClusterWatcher {
  /**
   * Fails with a 404 KubeApiError while the kind is unknown to the server (its CRD not installed yet).
   * onListed is called after each list that succeeded, just before the informer fills its store from
   * it (so the store is filled once the informer's start() has returned): the informer's own events do
   * not tell an empty store that was filled from one never filled.
   */
  informer(kind: WatchedKind, onListed: () => void): Promise<CachingInformer>;
}
