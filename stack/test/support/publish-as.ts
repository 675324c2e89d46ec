import {
  DaprSidecar,
  EventPublisher,
  eventPublishers,
  type EventName,
  type EventPayload,
} from '@ecom/shared';
import { sidecarTokens } from '../../src/services';
import { servicePorts } from '../../src/settings';

/**
 * Publishes an event as its publisher would: through the sidecar of the service that may publish it
 * (the pub/sub's publishing scopes refuse anyone else), with that sidecar's Dapr API token.
 */
export async function publishAsOwner<K extends EventName>(name: K, payload: EventPayload<K>): Promise<void> {
  const [owner] = eventPublishers[name];
  if (owner === undefined) throw new Error(`no service may publish ${name}`);
  const sidecar = new DaprSidecar(
    '127.0.0.1',
    servicePorts(owner).daprHttp,
    sidecarTokens(owner).DAPR_API_TOKEN,
  );
  await new EventPublisher(sidecar).publish(name, payload);
}
