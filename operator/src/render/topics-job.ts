import type { V1Job } from '@kubernetes/client-node';
import { OUTBOX_TOPIC_PARTITIONS, topicPlan, type TopicPlan } from '@ecom/shared/dapr/outbox-stores';
import { SERVICE_NAMES, type EcomStackSpec } from '../api/ecom-stack';
import { kafkaBrokers, toEnv } from './connections';
import { metadata, names, type RenderContext, type Rendered } from './context';
import { configHash } from './workloads';

export type JobObject = V1Job & Rendered;

/**
 * Partitions of each event topic and its dead letters: the spec's count, raised to twice the most
 * replicas any service runs. Kafka gives each partition of a topic to one member of a consumer group
 * (one group per Dapr app id, all its replicas), and Dapr's consumer takes one partition's messages one
 * at a time. With twice as many partitions as replicas every replica gets two: none idles, one message
 * waiting out its retries holds up half of a pod's share only, and the one extra pod of a roll
 * (maxSurge 1) has partitions too. A dead replica's partitions go to the others. Kafka never removes
 * partitions, so fewer replicas later leave the topics as they are; more grow them (the Job alters
 * them), which moves keys to other partitions: scale before the traffic, not under it.
 */
export function eventTopicPartitions(spec: EcomStackSpec): number {
  const most = Math.max(...SERVICE_NAMES.map((s) => spec.services[s].replicas));
  return Math.max(spec.infrastructure.kafka.partitions, 2 * most);
}

/**
 * Every topic the stack uses: each catalogue event and its dead-letter topic with
 * eventTopicPartitions, and each Dapr outbox's internal topic (named after the namespace) with at
 * least OUTBOX_TOPIC_PARTITIONS, since one of its partitions carries about 10 events/s.
 */
export function stackTopics(ctx: RenderContext): TopicPlan[] {
  const partitions = eventTopicPartitions(ctx.spec);
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
