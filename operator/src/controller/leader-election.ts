import { isConflict, isNotFound, type ClusterClient } from '../kube/cluster-client';

export interface LeaseConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSec: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** The subset of the cluster client the elector needs: optimistic create / replace of one Lease. */
export type LeaseClient = Pick<ClusterClient, 'get' | 'createIfAbsent'> & {
  replace(obj: Lease): Promise<unknown>;
};

const micro = (d: Date) => d.toISOString().replace('Z', '000Z');

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: take
 * the Lease when it is free or expired, renew it every retry period, and give
 * up leadership (onStoppedLeading) when renewal has failed for renewDeadline.
 * Writes use the Lease's resourceVersion, so two candidates never both win.
 */
export class LeaderElector {
  private leading = false;
  private lastRenew = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly client: LeaseClient,
    private readonly config: LeaseConfig,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  get isLeader(): boolean {
    return this.leading;
  }

  /** Resolves when leadership is first acquired; calls onStoppedLeading if it is lost later. */
  async run(onStoppedLeading: () => void): Promise<void> {
    await new Promise<void>((resolve) => {
      const tick = async () => {
        if (this.stopped) return;
        let acquired = false;
        try {
          acquired = await this.tryAcquireOrRenew();
        } catch {
          acquired = false;
        }
        const now = this.clock().getTime();
        if (acquired) {
          this.lastRenew = now;
          if (!this.leading) {
            this.leading = true;
            resolve();
          }
        } else if (this.leading && now - this.lastRenew > this.config.renewDeadlineMs) {
          this.leading = false;
          this.stop();
          onStoppedLeading();
          return;
        }
        this.timer = setTimeout(() => void tick(), this.config.retryPeriodMs);
      };
      void tick();
    });
  }

  /** Stops renewing; the Lease expires on its own after leaseDurationSeconds. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /**
   * Gives the Lease up at shutdown (as client-go's ReleaseOnCancel), so a
   * successor takes over at once instead of waiting for it to expire.
   */
  async release(): Promise<void> {
    this.stop();
    if (!this.leading) return;
    this.leading = false;
    const { namespace, name, identity } = this.config;
    const lease = await this.client.get<Lease>({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace,
      name,
    });
    if (lease?.spec.holderIdentity !== identity) return;
    const now = micro(this.clock());
    await this.client.replace({
      ...lease,
      spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now },
    });
  }

  async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSec } = this.config;
    const now = this.clock();
    const lease = await this.client.get<Lease>({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace,
      name,
    });
    if (!lease) {
      return this.client.createIfAbsent({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: leaseDurationSec,
          acquireTime: micro(now),
          renewTime: micro(now),
          leaseTransitions: 0,
        },
      } as Lease);
    }
    const spec = lease.spec;
    const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? leaseDurationSec) * 1000 < now.getTime();
    const mine = spec.holderIdentity === identity;
    if (!mine && !expired && spec.holderIdentity) return false;
    const next: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: leaseDurationSec,
        renewTime: micro(now),
        ...(mine ? {} : { acquireTime: micro(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      await this.client.replace(next);
      return true;
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) return false;
      throw e;
    }
  }
}
