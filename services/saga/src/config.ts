import { millis, postgresServiceConfigSchema } from '@ecom/shared';
import { z } from 'zod';
import { CURRENT_SAGA_VERSION, sagaVersions, type SagaVersion } from './domain/saga';

export const sagaConfigSchema = postgresServiceConfigSchema.extend({
  /** How long one forward step (reserve, charge) may take before the saga compensates. */
  SAGA_STEP_TIMEOUT_MS: millis().default(15_000),
  /** First back-off between attempts at a participant that is down; doubles up to the maximum. */
  SAGA_RETRY_INITIAL_MS: millis().default(250),
  SAGA_RETRY_MAX_MS: millis().default(2_000),
  /** Reservation lifetime; defaults to twice the step timeout so a slow charge does not lose its stock. */
  SAGA_RESERVATION_TTL_S: z.coerce.number().int().positive().optional(),
  /** One HTTP call to a participant (a retry follows on timeout). */
  SAGA_INVOKE_TIMEOUT_MS: millis().default(5_000),
  /**
   * The saga version new instances start with. During a rolling upgrade that brings a new version,
   * keep the one the old replicas know until every replica runs the new code: an old replica cannot
   * replay an instance of a version it does not know.
   */
  SAGA_START_VERSION: z.coerce
    .number()
    .refine((v): v is SagaVersion => (sagaVersions as readonly number[]).includes(v), {
      message: `must be one of ${sagaVersions.join(', ')}`,
    })
    .default(CURRENT_SAGA_VERSION),
});
export type SagaConfig = z.infer<typeof sagaConfigSchema>;
