import { buildDaprResources } from './dapr';
import type { RenderContext, Rendered } from './context';
import { buildInfrastructure } from './infrastructure';
import { buildTopicsJob } from './topics-job';
import { buildServices } from './workloads';

/**
 * Everything the operator applies for one EcomStack, in apply order
 * (infrastructure, then Dapr resources, then the services that use them).
 * The generated Secrets are not here: they are created once, when absent,
 * never re-applied (see secrets.ts).
 */
export function renderStack(ctx: RenderContext): Rendered[] {
  return [
    ...buildInfrastructure(ctx),
    buildTopicsJob(ctx),
    ...buildDaprResources(ctx),
    ...buildServices(ctx),
  ];
}

/** A stable identity of an object within a namespace: apiVersion, kind and name. */
export function objectKey(o: { apiVersion?: string; kind?: string; metadata?: { name?: string } }): string {
  return `${o.apiVersion ?? ''}/${o.kind ?? ''}/${o.metadata?.name ?? ''}`;
}
