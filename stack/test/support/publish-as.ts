import {
  DaprSidecar,
  DaprStateStore,
  type DaprStateApp,
  EventPublisher,
  eventPublishers,
  type EventName,
  type EventPayload,
} from '@ecom/shared';
import { sidecarTokens } from '../../src/services';
import { servicePorts, type ServiceId } from '../../src/settings';

/**
 * Publishes an event as its publisher would: through the sidecar of the service that may publish it
 * (the pub/sub's publishing scopes refuse anyone else), with that sidecar's Dapr API token.
 */
export async function publishAsOwner<K extends EventName>(name: K, payload: EventPayload<K>): Promise<void> {
  const [owner] = eventPublishers[name];
  if (owner === undefined) throw new Error(`no service may publish ${name}`);
  await new EventPublisher(sidecarOf(owner)).publish(name, payload);
}

/** A service's own sidecar in the local stack, reached with that service's Dapr API token. */
export function sidecarOf(app: ServiceId): DaprSidecar {
  return new DaprSidecar('127.0.0.1', servicePorts(app).daprHttp, sidecarTokens(app).DAPR_API_TOKEN);
}

/** A service's Dapr state stores as the service itself uses them (through its sidecar). */
export function stateStoreOf(app: DaprStateApp): DaprStateStore {
  return DaprStateStore.of(app, sidecarOf(app), {
    DAPR_HOST: '127.0.0.1',
    DAPR_HTTP_PORT: servicePorts(app).daprHttp,
    DAPR_API_TOKEN: sidecarTokens(app).DAPR_API_TOKEN,
  });
}
