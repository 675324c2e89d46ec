import { z } from 'zod';

/** Raised at start-up when the environment does not satisfy a service's config schema. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment once, at start-up, into a typed object. Every bad or
 * missing key is reported together, by name, so a misconfigured deployment
 * fails fast with the whole list instead of one key per restart.
 *
 * A variable set to the empty string (or only spaces) counts as not set: `NAME=` in an env file or a
 * manifest's `value: ""` means "not given", so it takes its default or is reported missing by name.
 * Parsed as given, a number would have been 0 (`Number('')`): a scan interval of 0 ms, no timeout.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value?.trim() !== ''));
  const result = schema.safeParse(given);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  return result.data;
}

/** A TCP port given as a string in the environment. */
export const port = () => z.coerce.number().int().min(1).max(65535);

/** Milliseconds given as a string in the environment. */
export const millis = () => z.coerce.number().int().min(0);

/** A boolean flag given as "true"/"false"/"1"/"0". */
export const flag = () =>
  z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

/** Settings every service reads: where it listens and where its Dapr sidecar is. */
export const baseConfigSchema = z.object({
  APP_PORT: port(),
  /**
   * The address the app listens on: loopback by default, so only its own sidecar reaches it on a
   * shared host. In a pod the kubelet's probes come from outside it, so Kubernetes sets 0.0.0.0 and a
   * NetworkPolicy keeps other pods off the app port.
   */
  APP_HOST: z.string().min(1).default('127.0.0.1'),
  DAPR_HTTP_PORT: port().default(3500),
  DAPR_GRPC_PORT: port().default(50001),
  DAPR_HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: millis().default(10_000),
  /**
   * How long a stopping app keeps accepting connections, each answer closing its own, before it closes
   * its listener and drains: 0 on one host. In a pod it outlasts the sidecar's shutdown block, so
   * whatever still reaches the pod (through a Service endpoint being dropped, or through the sidecar)
   * is answered; the operator sets it.
   */
  SHUTDOWN_LINGER_MS: millis().default(0),
  BODY_LIMIT: z.string().default('100kb'),
  /**
   * How long the start keeps retrying a store it cannot reach before it gives up (exit 1). When a
   * cluster starts, every pod connects at once and a database's first answers can take longer than
   * one connection timeout; retrying here spares a restart and its growing back-off.
   */
  STORE_CONNECT_TIMEOUT_MS: millis().default(60_000),
  /**
   * Dapr's app API token, given to the app and its sidecar alike: the sidecar sends it with every
   * request it delivers, which tells those from direct calls to the app port.
   */
  APP_API_TOKEN: z.string().min(16).optional(),
  /** Dapr's API token: the sidecar answers its API (invoke, publish, state, workflows) to holders only. */
  DAPR_API_TOKEN: z.string().min(16).optional(),
});
export type BaseConfig = z.infer<typeof baseConfigSchema>;
