import {
  ApiException,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  dumpYaml,
  loadYaml,
  makeInformer,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { FIELD_MANAGER } from '../render/context';
import {
  KubeApiError,
  isConflict,
  isNotFound,
  type ApplyOptions,
  type ClusterClient,
  type ClusterWatcher,
  type ObjectRef,
  type WatchedKind,
} from './cluster-client';

/**
 * KubernetesObjectApi with its protected discovery made usable: the informers need a
 * collection's path and the status patch needs the resource's plural, and the library
 * exposes neither. Unknown kinds become a 404, as the reconciler expects of a missing CRD.
 */
class DiscoveringObjectApi extends KubernetesObjectApi {
  static forConfig(kc: KubeConfig): DiscoveringObjectApi {
    const api = kc.makeApiClient(DiscoveringObjectApi);
    api.setDefaultNamespace(kc);
    return api;
  }

  async plural(apiVersion: string, kind: string): Promise<string> {
    let found;
    try {
      found = await this.resource(apiVersion, kind);
    } catch (e) {
      // The library asks /apis/<group>/<version>; a group nobody serves answers 404.
      if (!isNotFound(toKubeApiError(e))) throw toKubeApiError(e);
    }
    if (!found)
      throw new KubeApiError(
        404,
        'NotFound',
        `the server has no ${kind} in ${apiVersion} (is its CRD installed?)`,
      );
    return found.name;
  }

  async collectionPath(apiVersion: string, kind: string, namespace: string): Promise<string> {
    await this.plural(apiVersion, kind);
    return this.specUriPath({ apiVersion, kind, metadata: { namespace } }, 'list');
  }
}

/**
 * The library (de)serialises known kinds through its generated models: it sends only the
 * models' TypeScript property names (`xKubernetesValidations`, `_default`) and answers with
 * class instances holding Dates. The operator speaks the wire format, so every object is
 * converted at this boundary with the library's own YAML (de)serialisers.
 */
const toModel = <T extends KubernetesObject>(obj: T): T => loadYaml<T>(JSON.stringify(obj));
const toWire = <T extends KubernetesObject>(obj: T): T => load(dumpYaml(obj)) as T;

/**
 * The ClusterClient (and the controller's watcher) over `@kubernetes/client-node`:
 * KubernetesObjectApi for discovery, server-side apply and the other verbs;
 * CustomObjectsApi for the status subresource, which KubernetesObjectApi cannot address.
 */
export class KubeClusterClient implements ClusterClient, ClusterWatcher {
  private readonly objects: DiscoveringObjectApi;
  private readonly customObjects: CustomObjectsApi;

  constructor(
    private readonly kc: KubeConfig,
    private readonly fieldManager: string = FIELD_MANAGER,
  ) {
    this.objects = DiscoveringObjectApi.forConfig(kc);
    this.customObjects = kc.makeApiClient(CustomObjectsApi);
  }

  async apply<T extends KubernetesObject>(obj: T, options: ApplyOptions = {}): Promise<T> {
    return this.call(obj, async () =>
      toWire(
        await this.objects.patch(
          toModel(obj),
          undefined,
          options.dryRun ? 'All' : undefined,
          this.fieldManager,
          options.force ?? true,
          PatchStrategy.ServerSideApply,
        ),
      ),
    );
  }

  async createIfAbsent(obj: KubernetesObject): Promise<boolean> {
    try {
      await this.call(obj, () => this.objects.create(toModel(obj), undefined, undefined, this.fieldManager));
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  async replace<T extends KubernetesObject>(obj: T): Promise<T> {
    return this.call(obj, async () =>
      toWire(await this.objects.replace(toModel(obj), undefined, undefined, this.fieldManager)),
    );
  }

  async get<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.call(headerOf(ref), async () => toWire(await this.objects.read<T>(headerOf(ref))));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector?: string,
  ): Promise<T[]> {
    const { items } = await this.listObjects<T>(apiVersion, kind, namespace, labelSelector);
    // A list's items carry no apiVersion and kind of their own.
    return items.map((item) => ({ ...item, apiVersion, kind }));
  }

  async delete(ref: ObjectRef): Promise<void> {
    try {
      await this.call(headerOf(ref), () =>
        this.objects.delete(headerOf(ref), undefined, undefined, undefined, undefined, 'Background'),
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async applyStatus(ref: ObjectRef, status: unknown): Promise<void> {
    const [group = '', version = ''] = ref.apiVersion.split('/');
    const { namespace } = ref;
    // CustomObjectsApi addresses namespaced custom resources only; the operator's own status is one.
    if (!namespace) throw new Error(`${ref.kind} ${ref.name}: no status for a cluster-scoped object`);
    const body = { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name }, status };
    await this.call(headerOf(ref), async () => {
      await this.customObjects.patchNamespacedCustomObjectStatus(
        {
          group,
          version,
          namespace,
          plural: await this.objects.plural(ref.apiVersion, ref.kind),
          name: ref.name,
          body,
          fieldManager: this.fieldManager,
          force: true,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    });
  }

  async informer(kind: WatchedKind, onListed: () => void): ReturnType<ClusterWatcher['informer']> {
    const { apiVersion, namespace, labelSelector } = kind;
    const path = await this.objects.collectionPath(apiVersion, kind.kind, namespace);
    return makeInformer<KubernetesObject>(
      this.kc,
      path,
      async () => {
        const list = await this.listObjects(apiVersion, kind.kind, namespace, labelSelector);
        onListed();
        return list;
      },
      labelSelector,
    );
  }

  private async listObjects<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace: string,
    labelSelector?: string,
  ): Promise<KubernetesListObject<T>> {
    const header = { apiVersion, kind, metadata: { name: '', namespace } };
    return this.call(header, async () => {
      const list = await this.objects.list<T>(
        apiVersion,
        kind,
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        labelSelector,
      );
      return { ...list, items: list.items.map(toWire) };
    });
  }

  /**
   * Runs one library call; its failure becomes a KubeApiError naming the object. Discovery
   * first: the library reports an unknown kind as a plain Error, the port as a 404.
   */
  private async call<R>(obj: KubernetesObject, run: () => Promise<R>): Promise<R> {
    try {
      await this.objects.plural(obj.apiVersion ?? '', obj.kind ?? '');
      return await run();
    } catch (e) {
      const error = toKubeApiError(e);
      if (error instanceof KubeApiError) {
        const what = `${obj.kind ?? '?'} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
        throw new KubeApiError(error.status, error.reason, `${what}: ${error.message}`);
      }
      throw error;
    }
  }
}

function headerOf(ref: ObjectRef): KubernetesObject & { metadata: { name: string; namespace?: string } } {
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
  };
}

/** The library's ApiException carries the API server's Status as text; keep its code and reason. */
function toKubeApiError(e: unknown): unknown {
  if (!(e instanceof ApiException)) return e;
  const body: unknown = e.body;
  let status: { reason?: string; message?: string } = {};
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body) as typeof status;
    } catch {
      status = { message: body };
    }
  }
  return new KubeApiError(e.code, status.reason ?? 'Unknown', `${e.code} ${status.message ?? String(body)}`);
}
