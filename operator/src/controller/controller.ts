import { API_VERSION, KIND } from '../api/ecom-stack';
import type { ClusterClient, ClusterWatcher } from '../kube/cluster-client';
import { STACK_LABEL } from '../render/context';
import { cryptoSecretMaterial } from '../render/secrets';
import { InformerCache } from './informer-cache';
import { OWNED_KINDS, Reconciler, type Logger } from './reconciler';
import { WorkQueue } from './work-queue';

/**
 * The thin loop around the reconciler: informers on EcomStacks and on every
 * kind of child (selected by the stack label) feed keys `namespace/name` into
 * one work queue; workers reconcile each key. A child event enqueues its stack,
 * so a deleted or edited child is put back by the next reconcile. The same
 * informers' stores are the cache the reconciler reads from.
 */
export class Controller {
  readonly queue = new WorkQueue();
  private running: Promise<void> | undefined;

  constructor(
    private readonly cache: InformerCache,
    private readonly reconciler: Reconciler,
    private readonly namespaces: readonly string[],
    private readonly log: Logger,
    private readonly workers = 2,
  ) {}

  /**
   * Starts every informer, then the workers: each informer has made its first attempt by then, so a
   * reconcile finds its kinds listed, or known to be absent; one still failing makes the reconciles
   * that read it fail and back off until it has listed.
   */
  async start(): Promise<void> {
    for (const namespace of this.namespaces) {
      await this.cache.watch({ apiVersion: API_VERSION, kind: KIND, namespace }, (o) => {
        this.enqueue(namespace, o.metadata?.name);
      });
      for (const { apiVersion, kind } of OWNED_KINDS) {
        await this.cache.watch({ apiVersion, kind, namespace, labelSelector: STACK_LABEL }, (o) => {
          this.enqueue(namespace, o.metadata?.labels?.[STACK_LABEL]);
        });
      }
    }
    this.running = this.queue.run(
      (key) => this.reconciler.reconcile(key),
      (key, error, retryInMs) => {
        this.log.warn('reconcile failed; retrying', {
          key,
          retryInMs,
          error: error instanceof Error ? error.message : String(error),
        });
      },
      this.workers,
    );
  }

  async stop(): Promise<void> {
    await this.cache.stop();
    this.queue.stop();
    await this.running;
  }

  private enqueue(namespace: string, stack: string | undefined): void {
    if (stack) this.queue.add(`${namespace}/${stack}`);
  }
}

/**
 * The operator on one cluster, as main.ts runs it and the cluster tests run it too: the controller's
 * informers fill the cache, and the reconciler reads from that cache and writes through the client.
 */
export function operatorController(
  cluster: ClusterClient & ClusterWatcher,
  namespaces: readonly string[],
  log: Logger,
  options: { workers: number; resyncMs?: number },
): Controller {
  const cache = new InformerCache(cluster, log);
  const reconciler = new Reconciler({
    client: cluster,
    cache,
    material: cryptoSecretMaterial,
    clock: () => new Date(),
    log,
    resyncMs: options.resyncMs,
  });
  return new Controller(cache, reconciler, namespaces, log, options.workers);
}
