import type { V1Job } from '@kubernetes/client-node';
import { OUTBOX_TOPIC_PARTITIONS, topicPlan, type TopicPlan } from '@ecom/shared/dapr/outbox-stores';
import { kafkaBrokers, toEnv } from './connections';
import { metadata, names, type RenderContext, type Rendered } from './context';
import { configHash } from './workloads';

export type JobObject = V1Job & Rendered;

/**
 * Every topic the stack uses: each catalogue event and its dead-letter topic with the EcomStack's
 * partitions, and each Dapr outbox's internal topic (named after the namespace) with at least
 * OUTBOX_TOPIC_PARTITIONS, since one of its partitions carries about 1 event/s.
 */
export function stackTopics(ctx: RenderContext): TopicPlan[] {
  const { partitions } = ctx.spec.infrastructure.kafka;
  return topicPlan(ctx.namespace).map((t) => ({
    ...t,
    partitions: t.kind === 'outbox' ? Math.max(partitions, OUTBOX_TOPIC_PARTITIONS) : partitions,
  }));
}

/**
 * Creates the topics up front (pubsub.kafka never does). A Job's pod template
 * is immutable, so the name carries a hash of the topic list and settings: a
 * change makes a new Job and the old one is pruned.
 */
export function buildTopicsJob(
  ctx: RenderContext,
  topics: readonly TopicPlan[] = stackTopics(ctx),
): JobObject {
  const kafka = ctx.spec.infrastructure.kafka;
  const managed = kafka.mode === 'managed';
  const create = [
    '--create',
    '--if-not-exists',
    // An external cluster's own default replication factor applies there.
    ...(managed ? ['--replication-factor 1'] : []),
  ].join(' ');
  const cli = '/opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BROKERS"';
  const script = [
    'set -eu',
    // Each entry is <topic>:<partitions>.
    'TOPICS="' + topics.map((t) => `${t.topic}:${t.partitions}`).join(' ') + '"',
    `until ${cli} --list >/dev/null; do echo "waiting for Kafka at $BROKERS"; sleep 3; done`,
    'for t in $TOPICS; do',
    '  name="${t%%:*}"; parts="${t##*:}"',
    `  ${cli} ${create} --partitions "$parts" --topic "$name"`,
    // A topic from an older plan with fewer partitions grows; Kafka never shrinks one.
    `  has="$(${cli} --describe --topic "$name" | grep -c "Partition: ")"`,
    `  if [ "$has" -lt "$parts" ]; then ${cli} --alter --topic "$name" --partitions "$parts"; fi`,
    'done',
    'echo "topics ready: $TOPICS"',
  ].join('\n');
  const hash = configHash(topics, create, kafka.managed.image, kafka.mode).slice(0, 8);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(ctx, `${names.topicsJob(ctx)}-${hash}`, 'kafka-topics'),
    spec: {
      backoffLimit: 20,
      activeDeadlineSeconds: 1800,
      template: {
        metadata: { labels: metadata(ctx, '', 'kafka-topics').labels },
        spec: {
          restartPolicy: 'OnFailure',
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'topics',
              image: kafka.managed.image,
              command: ['/bin/bash', '-c', script],
              env: [toEnv('BROKERS', kafkaBrokers(ctx))],
              resources: { requests: { cpu: '50m', memory: '256Mi' }, limits: { memory: '512Mi' } },
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}
