import type { Informer, KubernetesObject } from '@kubernetes/client-node';

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
 * The small port the controller talks to the cluster through: easy to fake in
 * unit tests, and one real implementation (KubeClusterClient) for any cluster.
 */
export interface ClusterClient {
  /** Server-side apply with the operator's field manager. */
  apply<T extends KubernetesObject>(obj: T, options?: ApplyOptions): Promise<T>;
  /** Creates the object; returns false when it already exists (left untouched). */
  createIfAbsent(obj: KubernetesObject): Promise<boolean>;
  /** PUT with the object's resourceVersion: fails with 409 when someone else wrote first. */
  replace<T extends KubernetesObject>(obj: T): Promise<T>;
  get<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined>;
  list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector?: string,
  ): Promise<T[]>;
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

/**
 * What the controller needs of the cluster: an informer (list, then watch) per kind.
 * Apart from ClusterClient, so the reconciler's fakes need not pretend to watch.
 */
export interface ClusterWatcher {
  /** Fails with a 404 KubeApiError while the kind is unknown to the server (its CRD not installed yet). */
  informer(kind: WatchedKind): Promise<Informer<KubernetesObject>>;
}
