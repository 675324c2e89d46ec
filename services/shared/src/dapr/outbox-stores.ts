import { eventPublishers, type ServiceAppId } from '../access/who-may-call';
import { daprComponents } from './components';
import { deadLetterTopic, eventNames, type EventName } from '../events/catalogue';

/**
 * The services that keep their aggregates in a Dapr state store (state.postgresql v1, in the
 * service's own database) and publish every event through Dapr's transactional outbox.
 *
 * Dapr's outbox publishes to the one topic its component names (`outboxPublishTopic`). ecom-micro
 * keeps one topic per event, so such a service gets one component per event it publishes, all
 * over the same table: reads go through any of them, and a write that emits an event goes
 * through the component of that event. Consumers keep their topics, their schemas and their
 * eventId dedupe unchanged, so none can miss or double-apply an event because of the outbox.
 *
 * Inventory stays on its SQL outbox: a reservation writes one key per SKU, and Dapr 1.18's outbox
 * publishes one message for every upsert of a transaction (see README, "Why inventory keeps SQL").
 */
export const DAPR_STATE_APPS = ['order', 'payment'] as const satisfies readonly ServiceAppId[];
export type DaprStateApp = (typeof DAPR_STATE_APPS)[number];

/** The table (in the app's own database) its state stores share, and where their migrations are tracked. */
export function daprStateTables(app: DaprStateApp): { table: string; metadataTable: string } {
  return { table: `${app}_state`, metadataTable: `${app}_state_metadata` };
}

/** The events an app publishes through Dapr's outbox: every event it owns. */
export function outboxEventsOf(app: DaprStateApp): EventName[] {
  return eventNames.filter((e) => eventPublishers[e].length === 1 && eventPublishers[e][0] === app);
}

/** The state store component whose outbox publishes `event` (a Kubernetes name: no underscore). */
export function outboxStoreName(event: EventName): string {
  return `state-${event.replaceAll('_', '-')}`;
}

/**
 * Dapr's internal topic for one outbox component: daprd publishes there before the database commits
 * and forwards to the event's topic once the state exists (`namespace`: 'default' in self-hosted
 * mode unless NAMESPACE is set, the pod's namespace on Kubernetes). From dapr 1.18.1 pkg/runtime/pubsub/outbox.go.
 */
export function outboxInternalTopic(app: string, topic: string, namespace: string): string {
  return `${namespace}${app}${topic}outbox`;
}

/**
 * Partitions of each internal outbox topic. Dapr's outbox handler waits before it looks for the state
 * (1 s in Dapr 1.18, 100 ms in the daprd built here: stack/dapr-build/outbox-fixes.sed), and its Kafka
 * consumer handles one partition's messages one at a time, so a partition carries about 10 messages/s
 * and 4 carry 40 of one event a second, four times what this machine's whole stack drives. Each
 * partition costs even when idle: the sidecar's consumer fetches every partition it owns several times a
 * second, and these topics were most of the partitions fetched (docs/benchmark-log.md, "fewer
 * partitions to fetch"). The operator raises the count with the replicas (operator/src/render/topics-job.ts).
 */
export const OUTBOX_TOPIC_PARTITIONS = 4;

/**
 * Partitions of an event topic and its dead letters in the local stack. It runs one process per
 * service, and 3 is more than twice that: the rule the operator sizes its topics by, from the replicas
 * an EcomStack asks for (eventTopicPartitions, operator/src/render/topics-job.ts).
 */
export const EVENT_TOPIC_PARTITIONS = 3;

/**
 * order_created is the one event on every order's critical path (order's commit -> the saga starting),
 * and a sidecar hands a partition's messages to its app one at a time: with 3 partitions it queued
 * behind the saga's handler at concurrency 20 (that hop p50 510-860 ms), with 8 it took ~230 ms
 * (measured with `npm run bench`). Every topic at 8 cost Kafka about 8 ms more CPU per order (each
 * consumer's fetches cover every partition it owns), so only this one gets them.
 */
export const CRITICAL_PATH_TOPIC_PARTITIONS: Partial<Record<EventName, number>> = { order_created: 8 };

/** One Kafka topic the stack creates up front (pubsub.kafka never creates topics). */
export interface TopicPlan {
  topic: string;
  partitions: number;
  /** An event's topic (or its dead letters), or a Dapr outbox's internal topic. */
  kind: 'event' | 'outbox';
}

/** Every topic of the stack: each event, its dead letters, and each outbox's internal topic. */
export function topicPlan(namespace: string): TopicPlan[] {
  const events = eventNames.flatMap((name) => [
    {
      topic: name,
      partitions: CRITICAL_PATH_TOPIC_PARTITIONS[name] ?? EVENT_TOPIC_PARTITIONS,
      kind: 'event' as const,
    },
    { topic: deadLetterTopic(name), partitions: EVENT_TOPIC_PARTITIONS, kind: 'event' as const },
  ]);
  const outboxes = DAPR_STATE_APPS.flatMap((app) =>
    outboxEventsOf(app).map((event) => ({
      topic: outboxInternalTopic(app, event, namespace),
      partitions: OUTBOX_TOPIC_PARTITIONS,
      kind: 'outbox' as const,
    })),
  );
  return [...events, ...outboxes];
}

/** The internal outbox topics an app's sidecar publishes to (its pub/sub publishing scope must allow them). */
export function outboxTopicsOf(app: string, namespace: string): string[] {
  const stateApp = DAPR_STATE_APPS.find((a) => a === app);
  return stateApp === undefined
    ? []
    : outboxEventsOf(stateApp).map((event) => outboxInternalTopic(stateApp, event, namespace));
}

/**
 * The metadata of one outbox state store component, except its connection string (the renderer
 * supplies that: a value locally, a secret reference on Kubernetes).
 */
export function outboxStoreMetadata(app: DaprStateApp, event: EventName): { name: string; value: string }[] {
  const { table, metadataTable } = daprStateTables(app);
  return [
    { name: 'tableName', value: table },
    { name: 'metadataTableName', value: metadataTable },
    { name: 'outboxPublishPubsub', value: daprComponents.pubsub },
    { name: 'outboxPublishTopic', value: event },
    // A rolled-back transaction (an ETag conflict, say) leaves its message on the internal topic with
    // no state behind it. Without discarding, endless inbound retries would block that partition.
    { name: 'outboxDiscardWhenMissingState', value: 'true' },
  ];
}
