import type { V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import { KubeApiError, type ClusterClient, type ObjectRef } from '../kube/cluster-client';

/**
 * Dapr's sidecar injector registers itself under this one name: Dapr's Helm chart fixes it, and
 * `dapr init -k` installs that chart. Its labels carry Dapr's version (the chart's global.tag) and its
 * service names the control plane's namespace. The chart's ClusterRole lets the operator `get` this
 * object by name and nothing else of its kind.
 */
export const DAPR_INJECTOR_WEBHOOK: ObjectRef = {
  apiVersion: 'admissionregistration.k8s.io/v1',
  kind: 'MutatingWebhookConfiguration',
  name: 'dapr-sidecar-injector',
};

/** What the operator knows of Dapr's control plane. */
export type DaprControlPlane =
  | { state: 'found'; version?: string; namespace?: string }
  | { state: 'absent' }
  /** The lookup was refused (an operator installed without the chart's ClusterRole, say). */
  | { state: 'unknown'; why: string };

/** Looks for Dapr's sidecar injector: without it no pod gets a sidecar. */
export async function findDaprControlPlane(client: ClusterClient): Promise<DaprControlPlane> {
  let webhook: V1MutatingWebhookConfiguration | undefined;
  try {
    webhook = await client.get<V1MutatingWebhookConfiguration>(DAPR_INJECTOR_WEBHOOK);
  } catch (e) {
    if (e instanceof KubeApiError && e.status === 403) return { state: 'unknown', why: e.message };
    throw e;
  }
  if (!webhook) return { state: 'absent' };
  const version = webhook.metadata?.labels?.['app.kubernetes.io/version'];
  const namespace = webhook.webhooks?.find((w) => w.clientConfig.service)?.clientConfig.service?.namespace;
  return { state: 'found', ...(version ? { version } : {}), ...(namespace ? { namespace } : {}) };
}
