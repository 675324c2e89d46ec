import type { DaprSidecar } from '@ecom/shared';
import { z } from 'zod';

const metadataSchema = z.object({
  workflows: z.object({ connectedWorkers: z.number().int().optional() }).optional(),
});

/** Workflow workers connected to the sidecar, from its metadata API (absent means none). */
export async function connectedWorkflowWorkers(sidecar: DaprSidecar): Promise<number> {
  return metadataSchema.parse(await sidecar.metadata()).workflows?.connectedWorkers ?? 0;
}
