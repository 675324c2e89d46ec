import { randomUUID } from 'node:crypto';
import { eventSchemas, type EventInput, type EventName, type EventPayload } from './catalogue';

/** Clock and id source, injected so tests control time and ids. */
export interface EventClock {
  now(): Date;
  newId(): string;
}

export const systemEventClock: EventClock = { now: () => new Date(), newId: () => randomUUID() };

/** Completes an event with its envelope and checks it against the catalogue before it leaves the service. */
export function buildEvent<K extends EventName>(
  name: K,
  input: EventInput<K>,
  clock: EventClock = systemEventClock,
): EventPayload<K> {
  const candidate = {
    ...input,
    eventId: clock.newId(),
    occurredAt: clock.now().toISOString(),
    schemaVersion: 1,
  };
  return eventSchemas[name].parse(candidate) as EventPayload<K>;
}
