import { createHash } from 'node:crypto';
import type { V1Deployment } from '@kubernetes/client-node';
import type { Rendered } from '../render/context';
import { deploymentReadiness } from './readiness';

/** On each app Deployment: a digest of the pod template the operator applied last. */
export const POD_TEMPLATE_DIGEST = 'ecom-micro.io/pod-template-digest';

const digestOf = (d: Rendered): string =>
  createHash('sha256')
    .update(JSON.stringify((d as V1Deployment).spec?.template ?? {}))
    .digest('hex')
    .slice(0, 16);

/**
 * One app rolls at a time. A spec change that touches every pod template (spec.version, a registry,
 * the sidecar's settings) would otherwise start every Deployment's rollout at once: each keeps its own
 * pods available (maxUnavailable 0, a PodDisruptionBudget), but the saga's steps cross all the
 * services, and eight surging pods plus their sidecars at once starve a small node of CPU and memory.
 *
 * Returns `desired` with each app Deployment stamped with its template's digest, and with the changed
 * ones held back (left out of this apply; prune still counts them as desired) while another app's
 * rollout is under way. One changed Deployment starts when none is rolling, in the order rendered;
 * the watch on Deployments brings the next reconcile as it progresses. A changed Deployment that is
 * itself not ready is never held: it may be the roll under way, or broken and waiting for this fix.
 * Scaling (replicas) leaves the template, and so the digest, alone: it is never held here.
 */
export function oneRollAtATime(
  desired: Rendered[],
  live: ReadonlyMap<string, V1Deployment>,
  apps: ReadonlySet<string>,
): Rendered[] {
  const isApp = (o: Rendered) => o.kind === 'Deployment' && apps.has(o.metadata.name);
  const rolling = [...apps].some((name) => {
    const d = live.get(name);
    return d !== undefined && !deploymentReadiness(d).ready;
  });
  let mayStart = !rolling;
  return desired.flatMap((o): Rendered[] => {
    if (!isApp(o)) return [o];
    const stamped: Rendered = {
      ...o,
      metadata: {
        ...o.metadata,
        annotations: { ...o.metadata.annotations, [POD_TEMPLATE_DIGEST]: digestOf(o) },
      },
    };
    const current = live.get(o.metadata.name);
    const changed =
      current !== undefined &&
      current.metadata?.annotations?.[POD_TEMPLATE_DIGEST] !==
        stamped.metadata.annotations?.[POD_TEMPLATE_DIGEST];
    if (!changed || !deploymentReadiness(current).ready) return [stamped];
    if (!mayStart) return [];
    mayStart = false;
    return [stamped];
  });
}
