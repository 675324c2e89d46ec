import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CoreV1Api, KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { clusterDir, ensureBinaries } from '../../stack/src/cluster';
import { operatorController, type Controller } from '../src/controller/controller';
import type { Logger } from '../src/controller/reconciler';
import { KubeClusterClient } from '../src/kube/kube-cluster-client';

export const REPO = resolve(__dirname, '../..');
export const CHART = join(REPO, 'charts', 'ecom-micro');

export function kubeconfigPath(): string {
  return process.env.ECOM_TEST_KUBECONFIG ?? join(clusterDir(), 'kubeconfig');
}

/** A client with the test cluster's admin credentials (system:masters). */
export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath());
  return kc;
}

export function admin(): KubeClusterClient {
  return new KubeClusterClient(adminKubeConfig(), 'ecom-test');
}

/** Polls `probe` until it returns a value other than undefined/false; fails with the last error after the deadline. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  deadlineMs = 30_000,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(
        `${what}: not true after ${deadlineMs} ms${last instanceof Error ? ` (last error: ${last.message})` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function createNamespace(client: KubeClusterClient, prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e4).toString(36)}`;
  await client.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

export async function deleteNamespace(client: KubeClusterClient, name: string): Promise<void> {
  await client.delete({ apiVersion: 'v1', kind: 'Namespace', name });
}

/**
 * The kinds the chart renders for the operator with its default values (`--include-crds`): the CRD, the
 * ServiceAccount, its RBAC (a Role per watched namespace, the Lease's Role, two cluster-wide grants) and
 * its Deployment.
 */
export const OPERATOR_KINDS = [
  'ClusterRole',
  'ClusterRole',
  'ClusterRoleBinding',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'Deployment',
  'Role',
  'Role',
  'RoleBinding',
  'RoleBinding',
  'ServiceAccount',
];

/** `helm template` of the chart, parsed. */
export function helmTemplate(namespace: string, args: string[] = []): KubernetesObject[] {
  const { helm } = ensureBinaries();
  const out = execFileSync(helm, ['template', 'ecom', CHART, '--namespace', namespace, ...args], {
    encoding: 'utf8',
  });
  return loadAll(out).filter((d): d is KubernetesObject => typeof d === 'object' && d !== null);
}

/** A kubeconfig that authenticates as a ServiceAccount, with a token from the TokenRequest API. */
export async function serviceAccountKubeConfig(namespace: string, name: string): Promise<KubeConfig> {
  const adminKc = adminKubeConfig();
  const response = await adminKc.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    namespace,
    name,
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { audiences: [], expirationSeconds: 3600 },
    },
  });
  const token = response.status?.token;
  if (!token) throw new Error(`no token for ServiceAccount ${namespace}/${name}`);
  const cluster = adminKc.getCurrentCluster();
  if (!cluster) throw new Error('no cluster in the test kubeconfig');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'test',
        server: cluster.server,
        caData: cluster.caData ?? readFileSync(cluster.caFile ?? '', 'base64'),
      },
    ],
    users: [{ name, token }],
    contexts: [{ name: 'test', cluster: 'test', user: name, namespace }],
    currentContext: 'test',
  });
  return kc;
}

const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Runs the operator in-process with the given credentials: the same Controller and Reconciler as main.ts. */
export async function startOperator(
  kc: KubeConfig,
  namespaces: string[],
  log: Logger = silent,
): Promise<Controller> {
  const controller = operatorController(new KubeClusterClient(kc), namespaces, log, {
    workers: 2,
    resyncMs: 60_000,
  });
  await controller.start();
  return controller;
}
