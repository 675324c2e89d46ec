import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import type { EDGE_APP_ID } from '@ecom/shared/access/who-may-call';
import { API_VERSION, KIND, type EcomStackSpec, type ServiceName } from '../api/ecom-stack';

/** An app with a Dapr sidecar: one of the seven services, or the public edge. */
export type AppName = ServiceName | typeof EDGE_APP_ID;

/** Field manager of every server-side apply the operator makes. */
export const FIELD_MANAGER = 'ecom-operator';
/** Label on every child, so the operator can list (and prune) what it made for one stack. */
export const STACK_LABEL = 'ecom-micro.io/stack';
/** Label on every child with the part it belongs to: a service name or an infrastructure backend. */
export const COMPONENT_LABEL = 'app.kubernetes.io/component';

/** What the builders need from the EcomStack besides its resolved spec. */
export interface RenderContext {
  name: string;
  namespace: string;
  uid: string;
  spec: EcomStackSpec;
}

/** An object the operator applies; every builder returns these. */
export interface Rendered extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences: V1OwnerReference[];
  };
}

export function ownerReference(ctx: RenderContext): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: ctx.name,
    uid: ctx.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function labels(ctx: RenderContext, component: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': component,
    'app.kubernetes.io/instance': ctx.name,
    'app.kubernetes.io/part-of': 'ecom-micro',
    'app.kubernetes.io/managed-by': FIELD_MANAGER,
    [COMPONENT_LABEL]: component,
    [STACK_LABEL]: ctx.name,
  };
}

/** The labels a workload selects its pods by: stable across operator versions (selectors are immutable). */
export function selectorLabels(ctx: RenderContext, component: string): Record<string, string> {
  return { 'app.kubernetes.io/instance': ctx.name, 'app.kubernetes.io/name': component };
}

export function metadata(
  ctx: RenderContext,
  name: string,
  component: string,
  annotations?: Record<string, string>,
): Rendered['metadata'] {
  return {
    name,
    namespace: ctx.namespace,
    labels: labels(ctx, component),
    ...(annotations === undefined ? {} : { annotations }),
    ownerReferences: [ownerReference(ctx)],
  };
}

/** Object names, one function per kind of child, so builders and the controller agree. */
export const names = {
  /** An app's Deployment (the edge's Service too), and the NetworkPolicy of its pods. */
  service: (ctx: RenderContext, app: AppName) => `${ctx.name}-${app}`,
  serviceConfig: (ctx: RenderContext, app: AppName) => `${ctx.name}-${app}-config`,
  appPolicy: (ctx: RenderContext, app: AppName) => `${ctx.name}-${app}`,
  /** An app's PodDisruptionBudget (when it runs two or more replicas). */
  disruptionBudget: (ctx: RenderContext, app: AppName) => `${ctx.name}-${app}`,
  signingKey: (ctx: RenderContext) => ctx.spec.auth.signingKeySecretName ?? `${ctx.name}-signing-key`,
  credentials: (ctx: RenderContext) => `${ctx.name}-credentials`,
  /** The API token a service and its sidecar share (Dapr's app API token), key `token`. */
  appToken: (ctx: RenderContext, service: ServiceName) => `${ctx.name}-${service}-app-token`,
  /** The token an app presents to its own sidecar's API (Dapr's API token), key `token`. */
  daprApiToken: (ctx: RenderContext, app: AppName) => `${ctx.name}-${app}-dapr-api-token`,
  infra: (ctx: RenderContext, backend: 'kafka' | 'postgres' | 'mongodb' | 'redis') =>
    `${ctx.name}-${backend}`,
  topicsJob: (ctx: RenderContext) => `${ctx.name}-kafka-topics`,
  // Dapr resources are addressed by fixed names (one stack per namespace), the same as the local stack's.
  /** One sidecar Configuration per app: the shared tracing and metrics, and the app's access control. */
  daprConfig: (_ctx: RenderContext, app: AppName) => `ecom-config-${app}`,
  resiliency: (_ctx: RenderContext) => 'ecom-resiliency',
};
