import type { TopicPlan } from '@ecom/shared';
import { kafkaClient } from './health';

/**
 * Creates the topics that do not exist yet, and adds partitions to those that have fewer than
 * planned (a topic never loses partitions); returns the topics it created.
 */
export async function ensureTopics(
  kafkaPort: number,
  topics: (string | TopicPlan)[],
  partitions = 3,
): Promise<string[]> {
  const plan = new Map<string, number>(
    topics.map((t): [string, number] => (typeof t === 'string' ? [t, partitions] : [t.topic, t.partitions])),
  );
  const admin = kafkaClient(kafkaPort).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...plan.keys()].filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: plan.get(topic) ?? partitions,
          replicationFactor: 1,
        })),
      });
    }
    const present = [...plan.keys()].filter((t) => existing.has(t));
    if (present.length > 0) {
      const { topics: described } = await admin.fetchTopicMetadata({ topics: present });
      const grow = described
        .map((d) => ({ topic: d.name, count: plan.get(d.name) ?? 0, has: d.partitions.length }))
        .filter((d) => d.count > d.has)
        .map(({ topic, count }) => ({ topic, count }));
      if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow });
    }
    return missing;
  } finally {
    await admin.disconnect();
  }
}
