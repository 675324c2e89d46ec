import {
  ListWatch,
  type KubernetesListObject,
  type KubernetesObject,
  type Watch,
} from '@kubernetes/client-node';
import {
  CacheNotSyncedError,
  KubeApiError,
  type CachingInformer,
  type ClusterWatcher,
  type WatchedKind,
} from '../kube/cluster-client';
import { STACK_LABEL } from '../render/context';
import { InformerCache } from './informer-cache';
import type { Logger } from './reconciler';

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * An API server of one kind behind client-node's own ListWatch: a list answers `objects` (or fails
 * with `listError`), a watch stays open until `end`, and `emit` sends it an event. Once `gone`, the
 * kind is not served: everything fails with a 404, as each does on a real server.
 */
class FakeServer implements ClusterWatcher {
  objects: KubernetesObject[] = [];
  listError: Error | undefined;
  gone = false;
  private send: ((phase: string, obj: unknown) => void) | undefined;
  private done: ((err: unknown) => void) | undefined;

  informer(kind: WatchedKind, onListed: () => void): Promise<CachingInformer> {
    if (this.gone) return Promise.reject(notFound());
    const watch = {
      watch: (
        _path: string,
        _query: unknown,
        send: (phase: string, obj: unknown) => void,
        done: (err: unknown) => void,
      ) => {
        this.send = send;
        this.done = done;
        if (this.gone) done(Object.assign(new Error('Not Found'), { statusCode: 404 }));
        return Promise.resolve(new AbortController());
      },
    } as unknown as Watch;
    const list = async (): Promise<KubernetesListObject<KubernetesObject>> => {
      if (this.gone) throw notFound();
      if (this.listError) throw this.listError;
      onListed();
      // A list's items carry no apiVersion and kind of their own.
      const items = this.objects.map(({ metadata }) => ({ metadata: structuredClone(metadata) }));
      return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '1' }, items };
    };
    return Promise.resolve(new ListWatch('/deployments', watch, list, false, kind.labelSelector));
  }

  emit(phase: 'ADDED' | 'DELETED', obj: KubernetesObject): void {
    this.send?.(phase, structuredClone(obj));
  }

  end(err: unknown): void {
    this.done?.(err);
  }
}

const DEPLOYMENTS: WatchedKind = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  namespace: 'prod',
  labelSelector: STACK_LABEL,
};
const deployment = (name: string, stack = 'shop'): KubernetesObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'prod', labels: { [STACK_LABEL]: stack }, resourceVersion: name },
});
const notFound = () => new KubeApiError(404, 'NotFound', 'the server could not find the requested resource');

async function started(server: FakeServer, onChange: (o: KubernetesObject) => void = () => undefined) {
  const cache = new InformerCache(server, quiet);
  await cache.watch(DEPLOYMENTS, onChange);
  const shop = () => cache.list('apps/v1', 'Deployment', 'prod', `${STACK_LABEL}=shop`);
  return { cache, shop };
}

describe('InformerCache', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('does not answer for a kind its informer has not listed, and answers once it has', async () => {
    jest.useFakeTimers();
    const server = new FakeServer();
    server.objects = [deployment('shop-order')];
    server.listError = new KubeApiError(500, 'InternalError', 'etcd is away');
    const { cache, shop } = await started(server);
    await expect(shop()).rejects.toThrow(CacheNotSyncedError);
    await expect(shop()).rejects.toThrow('etcd is away');
    server.listError = undefined;
    await jest.advanceTimersByTimeAsync(2_000);
    await expect(shop()).resolves.toEqual([deployment('shop-order')]);
    await cache.stop();
  });

  it('reports a kind the server does not serve as not found, as a live read does, until it is served', async () => {
    jest.useFakeTimers();
    const server = new FakeServer();
    server.gone = true;
    const { cache, shop } = await started(server);
    await expect(shop()).rejects.toMatchObject({ status: 404 });
    server.gone = false;
    await jest.advanceTimersByTimeAsync(2_000);
    await expect(shop()).resolves.toEqual([]);
    await cache.stop();
  });

  it('serves what it holds while a watch restarts, and takes a kind whose CRD went away for not found', async () => {
    jest.useFakeTimers();
    const server = new FakeServer();
    server.objects = [deployment('shop-order')];
    const { cache, shop } = await started(server);
    server.end(new Error('connection reset'));
    await expect(shop()).resolves.toHaveLength(1);
    await jest.advanceTimersByTimeAsync(2_000);
    // The watch ends, and resuming it finds no such kind: what the store held is gone with it.
    server.gone = true;
    server.end(null);
    await expect(shop()).rejects.toMatchObject({ status: 404 });
    // Back, without the objects: a new informer lists it afresh.
    server.gone = false;
    server.objects = [];
    await jest.advanceTimersByTimeAsync(30_000);
    await expect(shop()).resolves.toEqual([]);
    await cache.stop();
  });

  it("answers for one stack from the informer of every stack's objects, with copies to change", async () => {
    const server = new FakeServer();
    server.objects = [deployment('shop-order'), deployment('other-order', 'other')];
    const { cache, shop } = await started(server);
    const [order] = await shop();
    expect(order).toEqual(deployment('shop-order'));
    if (order?.metadata) order.metadata.name = 'changed';
    await expect(shop()).resolves.toEqual([deployment('shop-order')]);
    await cache.stop();
  });

  it('follows the watch, and hands each change on once it holds it', async () => {
    const server = new FakeServer();
    const changed: Promise<KubernetesObject[]>[] = [];
    const { cache, shop } = await started(server, () => changed.push(shop()));
    server.emit('ADDED', deployment('shop-saga'));
    expect(await Promise.all(changed)).toEqual([[deployment('shop-saga')]]);
    server.emit('DELETED', deployment('shop-saga'));
    await expect(shop()).resolves.toEqual([]);
    expect(changed).toHaveLength(2);
    await cache.stop();
  });

  it('refuses the reads its informers cannot answer rightly', async () => {
    const server = new FakeServer();
    const { cache } = await started(server);
    // Beyond the informer's label selection: it does not hold those objects.
    await expect(cache.list('apps/v1', 'Deployment', 'prod')).rejects.toThrow('does not hold');
    await expect(
      cache.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'prod', name: 'shop-order' }),
    ).rejects.toThrow('label selection');
    await expect(cache.list('apps/v1', 'Deployment', 'prod', `${STACK_LABEL}!=shop`)).rejects.toThrow(
      'unsupported',
    );
    await expect(cache.list('apps/v1', 'StatefulSet', 'prod')).rejects.toThrow('no informer watches');
    await cache.stop();
  });
});
