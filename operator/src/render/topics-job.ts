import type { V1Job } from '@kubernetes/client-node';
import { deadLetterTopic, eventNames } from '@ecom/shared/events/catalogue';
import { kafkaBrokers, toEnv } from './connections';
import { metadata, names, type RenderContext, type Rendered } from './context';
import { configHash } from './workloads';

export type JobObject = V1Job & Rendered;

/** Every topic the services use: each catalogue event and its dead-letter topic. */
export function stackTopics(): string[] {
  return eventNames.flatMap((name) => [name, deadLetterTopic(name)]);
}

/**
 * Creates the topics up front (pubsub.kafka never does). A Job's pod template
 * is immutable, so the name carries a hash of the topic list and settings: a
 * change makes a new Job and the old one is pruned.
 */
export function buildTopicsJob(ctx: RenderContext, topics: readonly string[] = stackTopics()): JobObject {
  const kafka = ctx.spec.infrastructure.kafka;
  const managed = kafka.mode === 'managed';
  const create = [
    '--create',
    '--if-not-exists',
    `--partitions ${kafka.partitions}`,
    // An external cluster's own default replication factor applies there.
    ...(managed ? ['--replication-factor 1'] : []),
  ].join(' ');
  const script = [
    'set -eu',
    'TOPICS="' + topics.join(' ') + '"',
    'until /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BROKERS" --list >/dev/null; do echo "waiting for Kafka at $BROKERS"; sleep 3; done',
    'for t in $TOPICS; do /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BROKERS" ' +
      create +
      ' --topic "$t"; done',
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
