import type { KubernetesObject } from '@kubernetes/client-node';
import { buildCrd } from '../api/crd';
import { KubeApiError, type ClusterClient } from '../kube/cluster-client';
import type { Logger } from './reconciler';

/**
 * Applies the EcomStack CRD this operator defines. helm installs a chart's crds/ folder on the first
 * install only and never upgrades it, so the operator, which owns the schema, brings it along: an
 * upgraded operator upgrades its CRD before it reconciles. Its RBAC allows get and patch of this one
 * CRD by name; without that grant (a cluster admin manages CRDs) it logs and carries on.
 */
export async function applyOwnCrd(client: ClusterClient, log: Logger): Promise<void> {
  const crd = buildCrd() as unknown as KubernetesObject;
  try {
    await client.apply(crd);
    log.info('EcomStack CRD applied', { name: crd.metadata?.name });
  } catch (e) {
    if (e instanceof KubeApiError && e.status === 403) {
      log.warn('may not update the EcomStack CRD; keeping the installed one', { reason: e.message });
      return;
    }
    throw e;
  }
}
