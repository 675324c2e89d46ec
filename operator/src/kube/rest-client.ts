import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../render/context';
import {
  KubeApiError,
  isNotFound,
  type ApplyOptions,
  type ClusterClient,
  type ObjectRef,
} from './cluster-client';

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

const APPLY = 'application/apply-patch+yaml';

/**
 * ClusterClient over the Kubernetes REST API, authenticated by a KubeConfig.
 * Resource paths come from discovery (cached, refreshed on a miss, so CRDs
 * installed after start are found).
 */
export class KubeRestClient implements ClusterClient {
  private readonly discovery = new Map<string, ApiResource[]>();
  private readonly server: string;

  constructor(
    private readonly kc: KubeConfig,
    private readonly fieldManager: string = FIELD_MANAGER,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
  }

  async apply<T extends KubernetesObject>(obj: T, options: ApplyOptions = {}): Promise<T> {
    const path = await this.objectPath(refOf(obj));
    const query: Record<string, string> = {
      fieldManager: this.fieldManager,
      force: String(options.force ?? true),
    };
    if (options.dryRun) query.dryRun = 'All';
    return (await this.request('PATCH', path, query, obj, APPLY)) as T;
  }

  async createIfAbsent(obj: KubernetesObject): Promise<boolean> {
    const ref = refOf(obj);
    const path = await this.collectionPath(ref.apiVersion, ref.kind, ref.namespace);
    try {
      await this.request('POST', path, { fieldManager: this.fieldManager }, obj, 'application/json');
      return true;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 409) return false;
      throw e;
    }
  }

  async replace<T extends KubernetesObject>(obj: T): Promise<T> {
    const path = await this.objectPath(refOf(obj));
    return (await this.request(
      'PUT',
      path,
      { fieldManager: this.fieldManager },
      obj,
      'application/json',
    )) as T;
  }

  async get<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return (await this.request('GET', await this.objectPath(ref))) as T;
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
    const path = await this.collectionPath(apiVersion, kind, namespace);
    const body = (await this.request('GET', path, labelSelector ? { labelSelector } : {})) as { items?: T[] };
    return (body.items ?? []).map((item) => ({ ...item, apiVersion, kind }));
  }

  async delete(ref: ObjectRef): Promise<void> {
    try {
      await this.request(
        'DELETE',
        await this.objectPath(ref),
        {},
        { propagationPolicy: 'Background' },
        'application/json',
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async applyStatus(ref: ObjectRef, status: unknown): Promise<void> {
    const path = `${await this.objectPath(ref)}/status`;
    const body = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, namespace: ref.namespace },
      status,
    };
    await this.request('PATCH', path, { fieldManager: this.fieldManager, force: 'true' }, body, APPLY);
  }

  /** Path of a kind's collection, e.g. /apis/apps/v1/namespaces/shop/deployments. */
  async collectionPath(apiVersion: string, kind: string, namespace?: string): Promise<string> {
    const resource = await this.resource(apiVersion, kind);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    if (!resource.namespaced) return `${base}/${resource.name}`;
    if (!namespace) throw new Error(`${kind} is namespaced but no namespace was given`);
    return `${base}/namespaces/${encodeURIComponent(namespace)}/${resource.name}`;
  }

  async objectPath(ref: ObjectRef): Promise<string> {
    return `${await this.collectionPath(ref.apiVersion, ref.kind, ref.namespace)}/${encodeURIComponent(ref.name)}`;
  }

  private async resource(apiVersion: string, kind: string): Promise<ApiResource> {
    for (const refresh of [false, true]) {
      let resources = this.discovery.get(apiVersion);
      if (!resources || refresh) {
        const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
        try {
          const list = (await this.request('GET', base)) as { resources: ApiResource[] };
          resources = list.resources.filter((r) => !r.name.includes('/'));
        } catch (e) {
          if (!isNotFound(e)) throw e;
          resources = [];
        }
        this.discovery.set(apiVersion, resources);
      }
      const found = resources.find((r) => r.kind === kind);
      if (found) return found;
    }
    throw new KubeApiError(
      404,
      'NotFound',
      `the server has no ${kind} in ${apiVersion} (is its CRD installed?)`,
    );
  }

  /** One HTTP call; JSON in and out; a non-2xx answer becomes a KubeApiError. */
  async request(
    method: string,
    path: string,
    query: Record<string, string> = {},
    body?: unknown,
    contentType = 'application/json',
  ): Promise<unknown> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const options: RequestOptions = { method, headers: { Accept: 'application/json' } };
    await this.kc.applyToHTTPSOptions(options);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { ...(options.headers as Record<string, string>) };
    if (payload !== undefined) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = send(url, { ...options, headers, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
    const parsed: unknown = text.length > 0 ? safeJson(text) : {};
    if (status < 200 || status > 299) {
      const s = (parsed ?? {}) as { reason?: string; message?: string };
      throw new KubeApiError(
        status,
        s.reason ?? 'Unknown',
        `${method} ${path}: ${status} ${s.message ?? text.slice(0, 300)}`,
      );
    }
    return parsed;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { message: text };
  }
}

export function refOf(obj: KubernetesObject): ObjectRef {
  const { apiVersion, kind, metadata } = obj;
  if (!apiVersion || !kind || !metadata?.name)
    throw new Error('object needs apiVersion, kind and metadata.name');
  return {
    apiVersion,
    kind,
    name: metadata.name,
    ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
  };
}
