import type { V1Deployment } from '@kubernetes/client-node';
import type { Rendered } from '../render/context';
import { oneRollAtATime, POD_TEMPLATE_DIGEST } from './rollout';

const APPS = new Set(['shop-order', 'shop-saga', 'shop-edge']);

function rendered(name: string, image: string, kind = 'Deployment'): Rendered {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: { name, namespace: 'ns', labels: {}, ownerReferences: [] },
    spec: { replicas: 1, template: { spec: { containers: [{ name: 'app', image }] } } },
  } as Rendered;
}

/** The live object after `applied` was applied, rolled out (ready) or still rolling. */
function live(applied: Rendered, ready: boolean): V1Deployment {
  return {
    metadata: {
      name: applied.metadata.name,
      generation: 2,
      annotations: { ...applied.metadata.annotations },
    },
    spec: { replicas: 1 } as V1Deployment['spec'],
    status: ready
      ? { observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 }
      : { observedGeneration: 2, replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
  };
}

const version = (tag: string) => [...APPS].map((name) => rendered(name, `${name}:${tag}`));
const appliedNames = (out: Rendered[]) => out.map((o) => o.metadata.name);
const rolledOut = (objects: Rendered[], ready = true) =>
  new Map(objects.map((o) => [o.metadata.name, live(o, ready)]));

describe('oneRollAtATime', () => {
  it('creates every app Deployment at once, each stamped with its pod template digest', () => {
    const out = oneRollAtATime(version('1'), new Map(), APPS);
    expect(appliedNames(out)).toEqual([...APPS]);
    const digests = out.map((o) => o.metadata.annotations?.[POD_TEMPLATE_DIGEST]);
    expect(digests.every((d) => /^[0-9a-f]{16}$/.test(d ?? ''))).toBe(true);
    expect(new Set(digests).size).toBe(3);
  });

  it('starts one changed app when none is rolling, and holds the others', () => {
    const before = oneRollAtATime(version('1'), new Map(), APPS);
    const out = oneRollAtATime(version('2'), rolledOut(before), APPS);
    expect(appliedNames(out)).toEqual(['shop-order']);
    expect(JSON.stringify(out[0])).toContain('shop-order:2');
  });

  it('holds every other change while one app rolls, and moves on once it is ready', () => {
    const v1 = oneRollAtATime(version('1'), new Map(), APPS);
    const v2 = oneRollAtATime(version('2'), new Map(), APPS);
    const orderRolling = rolledOut(v1);
    orderRolling.set('shop-order', live(v2[0] as Rendered, false));
    // order's rollout is under way: it is re-applied as it is, saga and the edge wait.
    expect(appliedNames(oneRollAtATime(version('2'), orderRolling, APPS))).toEqual(['shop-order']);
    orderRolling.set('shop-order', live(v2[0] as Rendered, true));
    expect(appliedNames(oneRollAtATime(version('2'), orderRolling, APPS))).toEqual([
      'shop-order',
      'shop-saga',
    ]);
  });

  it('never holds a change of an app that is itself not ready, nor an unchanged one or another kind', () => {
    const v1 = oneRollAtATime(version('1'), new Map(), APPS);
    const broken = rolledOut(v1);
    broken.set('shop-saga', live(v1[1] as Rendered, false));
    const desired = [...version('2'), rendered('shop-order', 'x', 'Service')];
    // saga is not ready (crash-looping, say): its fix goes in; order and the edge wait for it.
    expect(appliedNames(oneRollAtATime(desired, broken, APPS))).toEqual(['shop-saga', 'shop-order']);
    const unchanged = oneRollAtATime(version('1'), broken, APPS);
    expect(appliedNames(unchanged)).toEqual([...APPS]);
  });

  it('holds nothing for a change of replicas alone', () => {
    const v1 = oneRollAtATime(version('1'), new Map(), APPS);
    const scaled = version('1');
    for (const o of scaled) ((o as V1Deployment).spec as { replicas: number }).replicas = 2;
    expect(appliedNames(oneRollAtATime(scaled, rolledOut(v1), APPS))).toEqual([...APPS]);
  });
});
