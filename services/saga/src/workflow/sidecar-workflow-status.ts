import { z } from 'zod';

const metadataSchema = z.object({
  workflows: z.object({ connectedWorkers: z.number().int().optional() }).optional(),
});

/** Workflow workers connected to the sidecar, from its metadata API (absent means none). */
export async function connectedWorkflowWorkers(host: string, httpPort: number): Promise<number> {
  const response = await fetch(`http://${host}:${httpPort}/v1.0/metadata`, {
    signal: AbortSignal.timeout(2_000),
  });
  if (!response.ok) throw new Error(`dapr metadata answered ${response.status}`);
  return metadataSchema.parse(await response.json()).workflows?.connectedWorkers ?? 0;
}
