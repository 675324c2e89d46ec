import type { V1LabelSelector } from '@kubernetes/client-node';
import { COMPONENT_LABEL, metadata, names, selectorLabels, STACK_LABEL } from './context';
import type { AppName, RenderContext, Rendered } from './context';
import { APP_NAMES, EDGE } from './service-catalog';
import { DAPR_INTERNAL_GRPC_PORT } from './workloads';

/**
 * A networking.k8s.io/v1 NetworkPolicy as the API takes it (the client library's model renames
 * `from` to `_from`, which only its own serializer maps back; objects here are sent as plain JSON).
 */
export interface NetworkPolicyPeer {
  podSelector?: V1LabelSelector;
  namespaceSelector?: V1LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}
export interface NetworkPolicyPort {
  port?: number | string;
  protocol?: string;
}
export interface NetworkPolicyObject extends Rendered {
  spec: {
    podSelector: V1LabelSelector;
    policyTypes: ('Ingress' | 'Egress')[];
    ingress?: { from?: NetworkPolicyPeer[]; ports?: NetworkPolicyPort[] }[];
  };
}

/**
 * Who may open connections to the stack's pods (DESIGN.md §9). Each policy selects one app's or one
 * backend's pods and allows ingress from the listed peers only; whatever a policy does not allow is
 * dropped, by a network plugin that enforces NetworkPolicy. The kubelet's probes come from the node,
 * which policies never block; Dapr's control plane is dialled by the sidecars, never the other way.
 */

type Ingress = NonNullable<NetworkPolicyObject['spec']['ingress']>;

/** The one shape of every policy here: `component`'s pods take ingress from `ingress` only. */
export function ingressPolicy(
  ctx: RenderContext,
  name: string,
  component: string,
  ingress: Ingress,
): NetworkPolicyObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: metadata(ctx, name, component),
    spec: { podSelector: { matchLabels: selectorLabels(ctx, component) }, policyTypes: ['Ingress'], ingress },
  };
}

/** The stack's pods whose component label is one of `components`. */
export function componentPeer(ctx: RenderContext, components: readonly string[]): NetworkPolicyPeer {
  return {
    podSelector: {
      matchLabels: { [STACK_LABEL]: ctx.name },
      matchExpressions: [{ key: COMPONENT_LABEL, operator: 'In', values: [...components] }],
    },
  };
}

const tcp = (port: number): NetworkPolicyPort => ({ port, protocol: 'TCP' });

/**
 * An app's pods: other sidecars of the stack reach its sidecar on the internal gRPC port (service
 * invocation with mTLS, where the callee's access-control policy decides); nothing reaches the app's
 * port or the sidecar's APIs from outside the pod, except, for the edge, its app port from anywhere.
 */
export function buildAppNetworkPolicy(ctx: RenderContext, app: AppName): NetworkPolicyObject {
  const sidecars = { from: [componentPeer(ctx, APP_NAMES)], ports: [tcp(DAPR_INTERNAL_GRPC_PORT)] };
  const publicPort = { ports: [tcp(EDGE.port)] };
  return ingressPolicy(
    ctx,
    names.appPolicy(ctx, app),
    app,
    app === EDGE.name ? [publicPort, sidecars] : [sidecars],
  );
}

/** The NetworkPolicy of every app: the seven services and the edge. */
export function buildAppNetworkPolicies(ctx: RenderContext): NetworkPolicyObject[] {
  return APP_NAMES.map((app) => buildAppNetworkPolicy(ctx, app));
}
