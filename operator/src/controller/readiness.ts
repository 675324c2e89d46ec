import type { V1Deployment, V1Job, V1StatefulSet } from '@kubernetes/client-node';

/** Whether a Deployment has rolled out its current spec: the same test `kubectl rollout status` makes. */
export function deploymentReadiness(d: V1Deployment | undefined): { ready: boolean; detail: string } {
  if (!d) return { ready: false, detail: 'not created yet' };
  const want = d.spec?.replicas ?? 1;
  const s: Partial<NonNullable<V1Deployment['status']>> = d.status ?? {};
  if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0))
    return { ready: false, detail: 'rollout not observed yet' };
  if (want === 0) return { ready: true, detail: 'scaled to 0' };
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const ready = s.readyReplicas ?? 0;
  if (updated < want) return { ready: false, detail: `${updated}/${want} updated` };
  if ((s.replicas ?? 0) > updated)
    return { ready: false, detail: `${(s.replicas ?? 0) - updated} old replicas pending termination` };
  if (available < want || ready < want)
    return { ready: false, detail: `${Math.min(available, ready)}/${want} ready` };
  return { ready: true, detail: `${ready}/${want} ready` };
}

export function statefulSetReadiness(s: V1StatefulSet | undefined): { ready: boolean; detail: string } {
  if (!s) return { ready: false, detail: 'not created yet' };
  const want = s.spec?.replicas ?? 1;
  const st: Partial<NonNullable<V1StatefulSet['status']>> = s.status ?? {};
  if ((st.observedGeneration ?? 0) < (s.metadata?.generation ?? 0))
    return { ready: false, detail: 'rollout not observed yet' };
  const ready = st.readyReplicas ?? 0;
  if (ready < want) return { ready: false, detail: `${ready}/${want} ready` };
  if (st.updateRevision && st.currentRevision && st.updateRevision !== st.currentRevision) {
    return { ready: false, detail: 'update in progress' };
  }
  return { ready: true, detail: `${ready}/${want} ready` };
}

export function jobReadiness(j: V1Job | undefined): { ready: boolean; detail: string } {
  if (!j) return { ready: false, detail: 'not created yet' };
  const conditions = j.status?.conditions ?? [];
  if (
    conditions.some((c) => c.type === 'Complete' && c.status === 'True') ||
    (j.status?.succeeded ?? 0) > 0
  ) {
    return { ready: true, detail: 'completed' };
  }
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed) return { ready: false, detail: `failed: ${failed.message ?? failed.reason ?? ''}` };
  return { ready: false, detail: 'running' };
}
