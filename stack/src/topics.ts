import { deadLetterTopic, eventNames } from '@ecom/shared';
import { kafkaClient } from './health';

/**
 * Topics the stack creates up front (pubsub.kafka never creates them): every
 * event of the catalogue and its dead-letter topic.
 */
export function stackTopics(): string[] {
  return eventNames.flatMap((name) => [name, deadLetterTopic(name)]);
}

/** The internal topic Dapr's transactional outbox publishes through first (daprd's namespace is `default` unless NAMESPACE is set). */
export function daprOutboxTopic(
  appId: string,
  topic: string,
  namespace = process.env.NAMESPACE ?? 'default',
): string {
  return `${namespace}${appId}${topic}outbox`;
}

/** Creates the topics that do not exist yet; returns the ones it created. */
export async function ensureTopics(kafkaPort: number, topics: string[], partitions = 3): Promise<string[]> {
  const admin = kafkaClient(kafkaPort).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
      });
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}
