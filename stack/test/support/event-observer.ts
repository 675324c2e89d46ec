import { randomUUID } from 'node:crypto';
import { createLogger, EventSubscriber, type EventName, type EventPayload } from '@ecom/shared';
import { startTestApp, type TestApp } from './test-app';

/**
 * Watches catalogue topics from an app of the test's own, through a real
 * sidecar and the services' own EventSubscriber (so payloads are validated
 * against the catalogue exactly as a consumer would validate them).
 */
export function startEventObserver<K extends EventName>(
  name: string,
  topics: readonly K[],
  onEvent: (topic: K, event: EventPayload<K>) => void,
): Promise<TestApp> {
  const subscriber = new EventSubscriber(createLogger(name, 'silent'));
  for (const topic of topics) {
    subscriber.on(topic, async (event) => {
      onEvent(topic, event);
    });
  }
  return startTestApp({
    appId: `${name}-${randomUUID().slice(0, 8)}`,
    routes: (app) => {
      subscriber.mount(app);
    },
  });
}
