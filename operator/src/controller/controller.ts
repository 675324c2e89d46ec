import type { Informer, KubernetesObject } from '@kubernetes/client-node';
import { API_VERSION, KIND } from '../api/ecom-stack';
import type { ClusterWatcher } from '../kube/cluster-client';
import { STACK_LABEL } from '../render/context';
import { OWNED_KINDS, type Logger, type Reconciler } from './reconciler';
import { WorkQueue } from './work-queue';

/**
 * The thin loop around the reconciler: informers on EcomStacks and on every
 * kind of child (selected by the stack label) feed keys `namespace/name` into
 * one work queue; workers reconcile each key. A child event enqueues its stack,
 * so a deleted or edited child is put back by the next reconcile.
 */
export class Controller {
  readonly queue = new WorkQueue();
  private readonly informers: Informer<KubernetesObject>[] = [];
  private readonly restarts = new Set<ReturnType<typeof setTimeout>>();
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly cluster: ClusterWatcher,
    private readonly reconciler: Reconciler,
    private readonly namespaces: readonly string[],
    private readonly log: Logger,
    private readonly workers = 2,
  ) {}

  async start(): Promise<void> {
    for (const namespace of this.namespaces) {
      await this.watch(
        namespace,
        API_VERSION,
        KIND,
        undefined,
        (o) => `${namespace}/${o.metadata?.name ?? ''}`,
      );
      for (const { apiVersion, kind } of OWNED_KINDS) {
        await this.watch(namespace, apiVersion, kind, STACK_LABEL, (o) => {
          const stack = o.metadata?.labels?.[STACK_LABEL];
          return stack ? `${namespace}/${stack}` : undefined;
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
    this.stopped = true;
    for (const t of this.restarts) clearTimeout(t);
    await Promise.all(this.informers.map((i) => i.stop()));
    this.queue.stop();
    await this.running;
  }

  private async watch(
    namespace: string,
    apiVersion: string,
    kind: string,
    labelSelector: string | undefined,
    keyOf: (o: KubernetesObject) => string | undefined,
  ): Promise<void> {
    const enqueue = (o: KubernetesObject) => {
      const key = keyOf(o);
      if (key) this.queue.add(key);
    };
    let informer: Informer<KubernetesObject> | undefined;
    let attempt = 0;
    const start = async (): Promise<void> => {
      if (this.stopped) return;
      try {
        if (!informer) {
          // Fails until the kind exists (Dapr's CRDs may come later): retried below.
          const created = await this.cluster.informer({
            apiVersion,
            kind,
            namespace,
            ...(labelSelector === undefined ? {} : { labelSelector }),
          });
          for (const verb of ['add', 'update', 'delete'] as const) created.on(verb, enqueue);
          created.on('error', (err?: unknown) => {
            this.log.warn('watch failed; restarting', { kind, namespace, error: String(err) });
            retry();
          });
          informer = created;
          this.informers.push(created);
        }
        await informer.start();
        attempt = 0;
      } catch (err) {
        this.log.warn('cannot watch yet; retrying', {
          kind,
          namespace,
          error: err instanceof Error ? err.message : String(err),
        });
        retry();
      }
    };
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
    await start();
  }
}
