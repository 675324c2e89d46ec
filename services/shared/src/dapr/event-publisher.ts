import type { EventName, EventPayload } from '../events/catalogue';
import { aggregateIdOf } from '../events/catalogue';
import { daprComponents } from './components';
import type { DaprSidecar } from './dapr-sidecar';

/** Publishes a complete catalogue event through the sidecar, keyed by its aggregate so one order's events stay in order. */
export class EventPublisher {
  constructor(
    private readonly sidecar: DaprSidecar,
    private readonly pubsub: string = daprComponents.pubsub,
  ) {}

  async publish<K extends EventName>(name: K, payload: EventPayload<K>): Promise<void> {
    const key = aggregateIdOf(name, payload);
    await this.sidecar.publish(this.pubsub, name, payload, key ? { partitionKey: key } : {});
  }
}
