import type { V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { deploymentReadiness, jobReadiness, statefulSetReadiness } from './readiness';

const deployment = (replicas: number, generation: number, status: V1Deployment['status']): V1Deployment => ({
  metadata: { generation },
  spec: { replicas, selector: {}, template: {} },
  status,
});

describe('deploymentReadiness', () => {
  it('is ready once the current spec is rolled out and available', () => {
    expect(
      deploymentReadiness(
        deployment(2, 3, {
          observedGeneration: 3,
          replicas: 2,
          updatedReplicas: 2,
          readyReplicas: 2,
          availableReplicas: 2,
        }),
      ).ready,
    ).toBe(true);
  });

  it.each([
    ['missing', undefined, 'not created yet'],
    [
      'a spec the controller has not seen',
      deployment(1, 4, {
        observedGeneration: 3,
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
      }),
      'rollout not observed yet',
    ],
    [
      'pods of the new spec still coming',
      deployment(3, 2, {
        observedGeneration: 2,
        replicas: 3,
        updatedReplicas: 1,
        readyReplicas: 3,
        availableReplicas: 3,
      }),
      '1/3 updated',
    ],
    [
      'old pods still terminating',
      deployment(1, 2, {
        observedGeneration: 2,
        replicas: 2,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
      }),
      '1 old replicas pending termination',
    ],
    [
      'not ready',
      deployment(2, 1, {
        observedGeneration: 1,
        replicas: 2,
        updatedReplicas: 2,
        readyReplicas: 1,
        availableReplicas: 1,
      }),
      '1/2 ready',
    ],
  ])('is not ready when %s', (_name, d, detail) => {
    expect(deploymentReadiness(d)).toEqual({ ready: false, detail });
  });

  it('counts a service scaled to zero as ready', () => {
    expect(deploymentReadiness(deployment(0, 1, { observedGeneration: 1 })).ready).toBe(true);
  });
});

describe('statefulSetReadiness', () => {
  const sts = (status: V1StatefulSet['status']): V1StatefulSet => ({
    metadata: { generation: 1 },
    spec: { replicas: 1, selector: {}, serviceName: 'x', template: {} },
    status,
  });

  it('waits for ready replicas and a finished update', () => {
    expect(statefulSetReadiness(sts({ observedGeneration: 1, replicas: 1, readyReplicas: 0 })).ready).toBe(
      false,
    );
    expect(
      statefulSetReadiness(
        sts({
          observedGeneration: 1,
          replicas: 1,
          readyReplicas: 1,
          currentRevision: 'a',
          updateRevision: 'b',
        }),
      ).detail,
    ).toBe('update in progress');
    expect(
      statefulSetReadiness(
        sts({
          observedGeneration: 1,
          replicas: 1,
          readyReplicas: 1,
          currentRevision: 'b',
          updateRevision: 'b',
        }),
      ).ready,
    ).toBe(true);
  });
});

describe('jobReadiness', () => {
  it('is ready once complete and reports a failure', () => {
    expect(jobReadiness({ status: { conditions: [{ type: 'Complete', status: 'True' }] } }).ready).toBe(true);
    expect(
      jobReadiness({
        status: { conditions: [{ type: 'Failed', status: 'True', message: 'BackoffLimitExceeded' }] },
      }),
    ).toEqual({
      ready: false,
      detail: 'failed: BackoffLimitExceeded',
    });
    expect(jobReadiness({ status: {} }).detail).toBe('running');
  });
});
