import type { KubernetesObject } from '@kubernetes/client-node';
import { MemoryCluster } from '../testing/memory-cluster';
import { LeaderElector, type LeaseConfig } from './leader-election';

const config = (identity: string): LeaseConfig => ({
  namespace: 'ops',
  name: 'ecom-operator',
  identity,
  leaseDurationSec: 15,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
});

describe('LeaderElector', () => {
  let t = new Date('2026-01-01T00:00:00Z').getTime();
  const clock = () => new Date(t);

  it('takes a free Lease, keeps others out while it renews, and loses it once expired', async () => {
    const cluster = new MemoryCluster();
    const a = new LeaderElector(cluster, config('a'), clock);
    const b = new LeaderElector(cluster, config('b'), clock);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    t += 10_000;
    expect(await a.tryAcquireOrRenew()).toBe(true);
    t += 10_000;
    expect(await b.tryAcquireOrRenew()).toBe(false);
    t += 16_000;
    expect(await b.tryAcquireOrRenew()).toBe(true);
    const lease = await cluster.get<
      KubernetesObject & { spec: { holderIdentity: string; leaseTransitions: number } }
    >({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace: 'ops',
      name: 'ecom-operator',
    });
    expect(lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(await a.tryAcquireOrRenew()).toBe(false);
  });

  it('hands the Lease over at once when released', async () => {
    const cluster = new MemoryCluster();
    const a = new LeaderElector(cluster, config('a'), clock);
    const b = new LeaderElector(cluster, config('b'), clock);
    let lost = false;
    await a.run(() => (lost = true));
    expect(a.isLeader).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    await a.release();
    t += 2_000;
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(lost).toBe(false);
  });

  it('loses a race on the same resourceVersion instead of both winning', async () => {
    const cluster = new MemoryCluster();
    const a = new LeaderElector(cluster, config('a'), clock);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    t += 60_000;
    // b reads the expired Lease, then a renews first: b's write must conflict.
    const realGet = cluster.get.bind(cluster);
    const b = new LeaderElector(
      {
        get: async (ref) => {
          const lease = await realGet(ref);
          await a.tryAcquireOrRenew();
          return lease as never;
        },
        createIfAbsent: (o) => cluster.createIfAbsent(o),
        replace: (o) => cluster.replace(o),
      },
      config('b'),
      clock,
    );
    expect(await b.tryAcquireOrRenew()).toBe(false);
  });
});
