import { buildDaprResources } from './dapr';
import type { RenderContext, Rendered } from './context';
import { buildInfrastructure } from './infrastructure';
import { buildAppNetworkPolicies } from './network-policies';
import { buildTopicsJob } from './topics-job';
import { buildEdge, buildServices } from './workloads';

/**
 * Everything the operator applies for one EcomStack, in apply order
 * (infrastructure, then Dapr resources, then the apps' NetworkPolicies, then the services that use
 * them and the edge in front of them).
 * The generated Secrets are not here: they are created once, when absent,
 * never re-applied (see secrets.ts).
 */
export function renderStack(ctx: RenderContext): Rendered[] {
  return [
    ...buildInfrastructure(ctx),
    buildTopicsJob(ctx),
    ...buildDaprResources(ctx),
    ...buildAppNetworkPolicies(ctx),
    ...buildServices(ctx),
    ...buildEdge(ctx),
  ];
}

/** A stable identity of an object within a namespace: apiVersion, kind and name. */
export function objectKey(o: { apiVersion?: string; kind?: string; metadata?: { name?: string } }): string {
  return `${o.apiVersion ?? ''}/${o.kind ?? ''}/${o.metadata?.name ?? ''}`;
}
