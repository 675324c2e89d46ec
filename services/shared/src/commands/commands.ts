import type { Express } from 'express';
import { allowCallers } from '../auth/authenticate';
import type { DaprSidecar } from '../dapr/dapr-sidecar';
import { AppError } from '../errors/app-error';
import { parseInput } from '../http/validate';
import { annotateContext } from '../logging/request-context';
import {
  commandPath,
  commands,
  type CommandInput,
  type CommandName,
  type CommandParams,
  type CommandReply,
  type CommandRequest,
  type CommandSpec,
} from './catalogue';

/**
 * Sends a command by Dapr service invocation and checks the reply against the catalogue: a callee
 * answering outside the contract is a bug there (INVALID_DATA), not an answer to act on.
 */
export async function sendCommand<K extends CommandName>(
  sidecar: DaprSidecar,
  name: K,
  body: CommandRequest<K>,
  options: { orderId?: string; timeoutMs?: number } = {},
): Promise<CommandReply<K>> {
  const spec: CommandSpec = commands[name];
  const answer = await sidecar.invoke<unknown>(spec.callee, 'POST', commandPath(name, options.orderId), {
    body,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const parsed = spec.reply.safeParse(answer.body);
  if (!parsed.success) {
    throw new AppError(
      'INVALID_DATA',
      `${spec.callee} answered ${name} outside the contract: ${parsed.error.message}`,
    );
  }
  return parsed.data as CommandReply<K>;
}

/**
 * Serves a command on the callee: its path, only for its callers (as Dapr reports them; access
 * control has checked their identity), with the path and body parsed by the catalogue's schemas.
 */
export function commandRoute<K extends CommandName>(
  app: Express,
  name: K,
  handle: (input: CommandInput<K>, params: CommandParams<K>) => Promise<CommandReply<K>>,
): void {
  const spec: CommandSpec = commands[name];
  app.post(`/${spec.path}`, allowCallers(...spec.callers), async (req, res) => {
    const params = parseInput(spec.params, req.params, 'path') as CommandParams<K>;
    const input = parseInput(spec.request, req.body ?? {}, 'body') as CommandInput<K>;
    const orderId = (params as { orderId?: unknown }).orderId ?? (input as { orderId?: unknown }).orderId;
    if (typeof orderId === 'string') annotateContext({ orderId });
    res.status(spec.status ?? 200).json(await handle(input, params));
  });
}
