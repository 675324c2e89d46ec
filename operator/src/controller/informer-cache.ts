import type { KubernetesObject } from '@kubernetes/client-node';
import {
  CacheNotSyncedError,
  isNotFound,
  KubeApiError,
  type CachingInformer,
  type ClusterReader,
  type ClusterWatcher,
  type ObjectRef,
  type WatchedKind,
} from '../kube/cluster-client';
import type { Logger } from './reconciler';

/** One term of an equality-based label selector: `key` (the label is set) or `key=value`. */
interface Requirement {
  key: string;
  value?: string;
}

interface Watched {
  /** What the informer's store holds: the objects of this selection. */
  selection: Requirement[];
  informer?: CachingInformer;
  /**
   * pending: nothing listed yet. synced: listed at least once; served, a moment stale maybe, while a
   * failed watch restarts. absent: the server does not serve the kind (its CRD is not installed).
   */
  state: 'pending' | 'synced' | 'absent';
  /** The last reason the informer is not watching, for the reads it makes fail. */
  problem?: string;
}

const keyOf = (namespace: string, apiVersion: string, kind: string) => `${namespace}/${apiVersion}/${kind}`;

/**
 * The reconciler's reads, served from the informers' stores as controller-runtime's cache serves them:
 * one informer per kind and namespace, whose events also feed the controller's queue, and no API call
 * per read. Writes go to the API server (ClusterClient).
 *
 * A store is at most a few watch events behind the server, and never goes back in time. A reconcile
 * is level-based and idempotent, so it is correct on such reads: whatever it has not seen yet arrives
 * as an event, and that event brings another reconcile. The reconciler says where a read must not lag.
 */
export class InformerCache implements ClusterReader {
  private readonly watched = new Map<string, Watched>();
  private readonly restarts = new Set<ReturnType<typeof setTimeout>>();
  private stopped = false;

  constructor(
    private readonly watcher: ClusterWatcher,
    private readonly log: Logger,
  ) {}

  /**
   * Starts an informer on one kind and keeps it running: a failed start or watch is retried with
   * backoff (Dapr's CRDs may come after the operator). Resolves after the first attempt. onChange gets
   * each object added, updated or deleted, once the store holds the change.
   */
  async watch(kind: WatchedKind, onChange: (o: KubernetesObject) => void): Promise<void> {
    const key = keyOf(kind.namespace, kind.apiVersion, kind.kind);
    if (this.watched.has(key)) throw new Error(`${key} is watched already`);
    const entry: Watched = { selection: parseSelector(kind.labelSelector), state: 'pending' };
    this.watched.set(key, entry);
    let attempt = 0;
    let lists = 0;
    const retry = () => {
      if (this.stopped) return;
      attempt += 1;
      const t = setTimeout(
        () => {
          this.restarts.delete(t);
          void start();
        },
        Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5)),
      );
      this.restarts.add(t);
    };
    const failed = (what: string, err: unknown) => {
      // Stopping aborts the watches, which report that as a failure.
      if (this.stopped) return;
      if (kindGone(err)) {
        // Not served: the kind has no objects, whatever the store held. A new informer lists it once it
        // is back; this one would resume its watch from a resourceVersion of the kind's past.
        entry.state = 'absent';
        void entry.informer?.stop();
        entry.informer = undefined;
      }
      entry.problem = err instanceof Error ? err.message : String(err);
      this.log.warn(what, { kind: kind.kind, namespace: kind.namespace, error: entry.problem });
      retry();
    };
    const open = async (): Promise<CachingInformer> => {
      const created = await this.watcher.informer(kind, () => {
        lists += 1;
      });
      for (const verb of ['add', 'update', 'delete'] as const) created.on(verb, onChange);
      created.on('error', (err?: unknown) => {
        // A discarded informer's last words (its aborted watch) are no news.
        if (entry.informer === created) failed('watch failed; restarting', err);
      });
      return created;
    };
    const start = async (): Promise<void> => {
      if (this.stopped) return;
      try {
        entry.informer ??= await open();
        const [listedBefore, failedBefore] = [lists, attempt];
        // Returns once the list has filled the store and the watch is open; a list or watch that
        // failed went to the 'error' handler instead, which retries. An informer that has listed
        // before only resumes its watch.
        await entry.informer.start();
        if (lists > listedBefore) entry.state = 'synced';
        if (attempt === failedBefore) attempt = 0;
      } catch (err) {
        failed('cannot watch yet; retrying', err);
      }
    };
    await start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.restarts) clearTimeout(t);
    await Promise.all([...this.watched.values()].map((w) => w.informer?.stop() ?? Promise.resolve()));
  }

  /** By name, only from an informer of the whole kind: one narrowed by labels cannot tell "absent" from "not selected". */
  get<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    return Promise.resolve().then(() => {
      const namespace = ref.namespace ?? '';
      const { selection, informer } = this.synced(ref.apiVersion, ref.kind, namespace);
      if (selection.length > 0)
        throw new Error(`${ref.kind} ${namespace}/${ref.name}: its informer holds a label selection only`);
      const found = informer.get(ref.name, namespace);
      return found && (copyOf(found, ref.apiVersion, ref.kind) as T);
    });
  }

  list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector?: string,
  ): Promise<T[]> {
    return Promise.resolve().then(() => {
      const { selection, informer } = this.synced(apiVersion, kind, namespace);
      const wanted = parseSelector(labelSelector);
      if (!covers(selection, wanted))
        throw new Error(
          `${kind} in ${namespace}: its informer does not hold all of "${labelSelector ?? ''}"`,
        );
      return informer
        .list(namespace)
        .filter((o) => matches(o.metadata?.labels ?? {}, wanted))
        .map((o) => copyOf(o, apiVersion, kind) as T);
    });
  }

  /** The kind's store once listed; otherwise the failure a live read would give, or CacheNotSyncedError. */
  private synced(
    apiVersion: string,
    kind: string,
    namespace: string,
  ): { selection: Requirement[]; informer: CachingInformer } {
    const entry = this.watched.get(keyOf(namespace, apiVersion, kind));
    if (!entry) throw new Error(`no informer watches ${kind} (${apiVersion}) in namespace ${namespace}`);
    if (entry.state === 'absent')
      throw new KubeApiError(
        404,
        'NotFound',
        `the server has no ${kind} in ${apiVersion} (is its CRD installed?)`,
      );
    if (entry.state === 'pending' || !entry.informer)
      throw new CacheNotSyncedError(
        `${kind} (${apiVersion}) in namespace ${namespace} not listed yet${entry.problem ? `: ${entry.problem}` : ''}`,
      );
    return { selection: entry.selection, informer: entry.informer };
  }
}

/** A failed list is the client's KubeApiError; a failed watch, the library's Error with a statusCode. */
const kindGone = (err: unknown): boolean =>
  isNotFound(err) || (err instanceof Error && (err as { statusCode?: unknown }).statusCode === 404);

/** A copy the caller may change (the store's objects are shared), with the apiVersion and kind a listed item lacks. */
const copyOf = (o: KubernetesObject, apiVersion: string, kind: string): KubernetesObject =>
  structuredClone({ ...o, apiVersion, kind });

const TERM = /^([\w./-]+)(?:=([\w.-]*))?$/;

/** The selectors the operator writes: `key` and `key=value` terms, comma-separated. Anything else is a mistake. */
function parseSelector(selector = ''): Requirement[] {
  return selector
    .split(',')
    .map((term) => term.trim())
    .filter((term) => term !== '')
    .map((term) => {
      const [, key, value] = TERM.exec(term) ?? [];
      if (!key) throw new Error(`unsupported label selector term "${term}" (key or key=value only)`);
      return value === undefined ? { key } : { key, value };
    });
}

const matches = (labels: Record<string, string>, wanted: Requirement[]) =>
  wanted.every((r) => (r.value === undefined ? Object.hasOwn(labels, r.key) : labels[r.key] === r.value));

/** Whether a store of `selection`'s objects holds every object `wanted` selects. */
const covers = (selection: Requirement[], wanted: Requirement[]) =>
  selection.every((s) =>
    wanted.some((w) => w.key === s.key && (s.value === undefined || w.value === s.value)),
  );
