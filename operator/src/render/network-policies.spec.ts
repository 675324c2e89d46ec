import type { V1Deployment, V1Job, V1LabelSelector, V1StatefulSet } from '@kubernetes/client-node';
import { SERVICE_NAMES } from '../api/ecom-stack';
import { contextFor } from '../testing/fixtures';
import type { NetworkPolicyObject, NetworkPolicyPeer } from './network-policies';
import { renderStack } from './render-stack';

/**
 * The stack's NetworkPolicies, evaluated the way a network plugin that enforces them does: a pod some
 * policy selects for ingress takes only connections one of those policies' rules allows.
 */

type Labels = Record<string, string>;
/** A connection's source: one of the stack's pods (its labels), or anything outside the namespace. */
type Source = Labels | 'outside';

const objs = renderStack(contextFor());
const policies = objs.filter((o) => o.kind === 'NetworkPolicy') as NetworkPolicyObject[];

/** The pod labels of each workload the stack renders, by its component label. */
const pods: Record<string, Labels> = Object.fromEntries(
  objs
    .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
    .map((o) => {
      const labels = (o as V1Deployment | V1StatefulSet | V1Job).spec?.template.metadata?.labels ?? {};
      return [labels['app.kubernetes.io/component'] ?? '', labels];
    }),
);
const pod = (component: string): Labels => {
  const labels = pods[component];
  if (!labels) throw new Error(`the stack renders no ${component} pod`);
  return labels;
};

function selects(selector: V1LabelSelector | undefined, labels: Labels): boolean {
  if (!selector) return true;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpression = (selector.matchExpressions ?? []).every((e) => {
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        return value !== undefined && (e.values ?? []).includes(value);
      case 'NotIn':
        return value === undefined || !(e.values ?? []).includes(value);
      case 'Exists':
        return value !== undefined;
      default:
        return value === undefined;
    }
  });
  return byLabel && byExpression;
}

/** A peer without a namespaceSelector selects pods of the policy's own namespace only. */
function peerAdmits(peer: NetworkPolicyPeer, source: Source): boolean {
  if (peer.ipBlock) return true;
  if (source === 'outside') return peer.namespaceSelector !== undefined && peer.podSelector === undefined;
  return peer.namespaceSelector === undefined && selects(peer.podSelector, source);
}

function allowed(source: Source, destination: Labels, port: number): boolean {
  const isolating = policies.filter(
    (p) =>
      (p.spec?.policyTypes ?? ['Ingress']).includes('Ingress') && selects(p.spec?.podSelector, destination),
  );
  if (isolating.length === 0) return true;
  return isolating.some((p) =>
    (p.spec?.ingress ?? []).some(
      (rule) =>
        (rule.from === undefined || rule.from.some((peer) => peerAdmits(peer, source))) &&
        (rule.ports === undefined || rule.ports.some((p) => p.port === port)),
    ),
  );
}

const SIDECAR = { http: 3500, grpc: 50001, internal: 50002, metrics: 9090 };
const APP_PORTS: Record<string, number> = Object.fromEntries([
  ...SERVICE_NAMES.map((s, i) => [s, 4001 + i]),
  ['edge', 8080],
]);

describe('NetworkPolicies of the stack', () => {
  it('isolate every pod the stack runs, the topics Job aside (nobody connects to it)', () => {
    for (const [component, labels] of Object.entries(pods)) {
      const isolated = policies.some((p) => selects(p.spec?.podSelector, labels));
      expect({ component, isolated }).toEqual({ component, isolated: component !== 'kafka-topics' });
    }
  });

  it.each(SERVICE_NAMES)("keep everyone off %s's app port and its sidecar's APIs", (service) => {
    const target = pod(service);
    for (const source of ['outside', pod('edge'), ...SERVICE_NAMES.map(pod)] as Source[]) {
      for (const port of [APP_PORTS[service] ?? 0, SIDECAR.http, SIDECAR.grpc, SIDECAR.metrics]) {
        expect({ service, port, allowed: allowed(source, target, port) }).toEqual({
          service,
          port,
          allowed: false,
        });
      }
    }
  });

  it.each(SERVICE_NAMES)(
    "let the stack's sidecars, and nobody else, reach %s's sidecar (mTLS)",
    (service) => {
      const target = pod(service);
      for (const caller of [...SERVICE_NAMES, 'edge'])
        expect(allowed(pod(caller), target, SIDECAR.internal)).toBe(true);
      expect(allowed('outside', target, SIDECAR.internal)).toBe(false);
      expect(allowed(pod('postgres'), target, SIDECAR.internal)).toBe(false);
    },
  );

  it("open the edge's app port to anyone, and nothing else of it", () => {
    const edge = pod('edge');
    expect(allowed('outside', edge, 8080)).toBe(true);
    expect(allowed('outside', edge, SIDECAR.http)).toBe(false);
    expect(allowed('outside', edge, SIDECAR.internal)).toBe(false);
    expect(allowed(pod('order'), edge, SIDECAR.internal)).toBe(true);
  });

  it('let each backend take connections from the pods that use it only: never the edge', () => {
    const may: [string, string, number][] = [
      ['order', 'postgres', 5432],
      ['saga', 'postgres', 5432],
      ['mongodb', 'postgres', 5432],
      ['auth', 'mongodb', 27017],
      ['notification', 'mongodb', 27017],
      ['kafka-topics', 'kafka', 9092],
      ...SERVICE_NAMES.map((s): [string, string, number] => [s, 'kafka', 9092]),
      ...SERVICE_NAMES.map((s): [string, string, number] => [s, 'redis', 6379]),
    ];
    for (const [from, to, port] of may)
      expect({ from, to, ok: allowed(pod(from), pod(to), port) }).toEqual({ from, to, ok: true });
    const mayNot: [Source, string, number][] = [
      [pod('edge'), 'postgres', 5432],
      [pod('edge'), 'mongodb', 27017],
      [pod('edge'), 'kafka', 9092],
      [pod('edge'), 'redis', 6379],
      [pod('order'), 'mongodb', 27017],
      [pod('auth'), 'postgres', 5432],
      ['outside', 'postgres', 5432],
      ['outside', 'redis', 6379],
    ];
    for (const [from, to, port] of mayNot) {
      const who = from === 'outside' ? from : from['app.kubernetes.io/component'];
      expect({ who, to, ok: allowed(from, pod(to), port) }).toEqual({ who, to, ok: false });
    }
  });
});
