import type { Condition } from '../api/ecom-stack';
import { computeStatus, type Observation } from './status';

const now = new Date('2026-01-01T00:00:00Z');
const ready = (name: string) => ({ name, ready: true, detail: '1/1 ready' });
const base: Observation = {
  generation: 3,
  version: '1.0.0',
  services: ['auth', 'order'].map(ready),
  infrastructure: ['kafka', 'kafka-topics'].map(ready),
  missingSecrets: [],
  daprControlPlane: { state: 'found', version: '1.18.1', namespace: 'dapr-system' },
};
const byType = (conditions: Condition[] | undefined) =>
  Object.fromEntries((conditions ?? []).map((c) => [c.type, c]));

describe('computeStatus', () => {
  it('is Ready when every part is ready', () => {
    const s = computeStatus(base, [], now);
    const c = byType(s.conditions);
    expect(c.Ready).toMatchObject({ status: 'True', reason: 'StackReady', observedGeneration: 3 });
    expect(c.Progressing?.status).toBe('False');
    expect(c.Degraded?.status).toBe('False');
    expect(c.InfrastructureReady?.status).toBe('True');
    expect(c.DaprInstalled).toMatchObject({ status: 'True', reason: 'Found' });
    expect(c.DaprComponentsReady?.status).toBe('True');
    expect(c.ServicesReady?.status).toBe('True');
    expect(s).toMatchObject({
      observedGeneration: 3,
      readyServices: '2/2',
      version: '1.0.0',
      daprVersion: '1.18.1',
    });
  });

  it('is Progressing while a service rolls out, naming it', () => {
    const s = computeStatus(
      { ...base, services: [ready('auth'), { name: 'order', ready: false, detail: '0/2 ready' }] },
      [],
      now,
    );
    const c = byType(s.conditions);
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'NotReady' });
    expect(c.ServicesReady?.message).toBe('order: 0/2 ready');
    expect(c.Progressing).toMatchObject({ status: 'True', reason: 'RollingOut' });
    expect(s.readyServices).toBe('1/2');
  });

  it('reports an invalid spec as Degraded, not Progressing', () => {
    const s = computeStatus({ generation: 4, version: '', specProblems: ['spec.x: bad'] }, [], now);
    const c = byType(s.conditions);
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'InvalidSpec', message: 'spec.x: bad' });
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'InvalidSpec' });
    expect(c.Progressing?.status).toBe('False');
    expect(c.ServicesReady?.reason).toBe('InvalidSpec');
  });

  it('reports missing Secrets and missing Dapr', () => {
    const c = byType(
      computeStatus({ ...base, missingSecrets: ['pg-conn'], daprMissing: 'no Dapr' }, [], now).conditions,
    );
    expect(c.Degraded?.reason).toBe('DaprNotInstalled');
    expect(c.DaprComponentsReady).toMatchObject({ status: 'False', reason: 'DaprNotInstalled' });
    expect(c.DaprInstalled).toMatchObject({ status: 'False', reason: 'DaprNotInstalled' });
    expect(c.InfrastructureReady).toMatchObject({ status: 'False', reason: 'MissingSecret' });
  });

  it("holds Ready back without Dapr's sidecar injector, even when every part is ready", () => {
    const c = byType(computeStatus({ ...base, daprControlPlane: { state: 'absent' } }, [], now).conditions);
    expect(c.Ready).toMatchObject({ status: 'False', reason: 'DaprNotInstalled' });
    expect(c.Degraded).toMatchObject({ status: 'True', reason: 'DaprNotInstalled' });
    expect(c.DaprInstalled?.message).toMatch(/no MutatingWebhookConfiguration dapr-sidecar-injector/);
    expect(c.Progressing?.status).toBe('False');
  });

  it('keeps lastTransitionTime while a status holds and moves it when it flips', () => {
    const first = computeStatus(base, [], now).conditions ?? [];
    const later = new Date('2026-01-01T01:00:00Z');
    const same = byType(computeStatus(base, first, later).conditions);
    expect(same.Ready?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    const flipped = byType(computeStatus({ ...base, applyError: 'boom' }, first, later).conditions);
    expect(flipped.Ready?.lastTransitionTime).toBe('2026-01-01T01:00:00Z');
    expect(flipped.Degraded).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
  });
});
