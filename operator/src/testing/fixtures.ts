import { resolveSpec } from '../api/resolve-spec';
import type { RenderContext } from '../render/context';
import type { SecretMaterial, SigningKeyFile } from '../render/secrets';

/** A render context from a raw spec, failing loudly if the spec is invalid. */
export function contextFor(rawSpec: unknown = {}, name = 'shop', namespace = 'prod'): RenderContext {
  const resolved = resolveSpec(rawSpec);
  if (!resolved.ok) throw new Error(`fixture spec is invalid: ${resolved.problems.join('; ')}`);
  return { name, namespace, uid: '0f1805a9-9c80-49e8-8703-3ee9a994cb33', spec: resolved.spec };
}

/** Deterministic secret material: counts its calls so specs can see what was generated. */
export function countingMaterial(): SecretMaterial & { calls: number } {
  const m = {
    calls: 0,
    token(bytes: number) {
      m.calls += 1;
      return `t${m.calls}`.padEnd(bytes * 2, '0');
    },
    es256SigningKey(): SigningKeyFile {
      m.calls += 1;
      return {
        kid: `kid-${m.calls}`,
        createdAt: '2026-01-01T00:00:00.000Z',
        privateJwk: { kty: 'EC', crv: 'P-256', x: `x${m.calls}`, y: `y${m.calls}`, d: `d${m.calls}` },
      };
    },
  };
  return m;
}

export const externalInfra = {
  kafka: { mode: 'external', external: { brokersSecretRef: { name: 'kafka-conn', key: 'brokers' } } },
  postgres: { mode: 'external', external: { secretName: 'pg-conn' } },
  mongodb: { mode: 'external', external: { secretName: 'mongo-conn' } },
  redis: {
    mode: 'external',
    external: {
      addressSecretRef: { name: 'redis-conn', key: 'address' },
      passwordSecretRef: { name: 'redis-conn', key: 'password' },
    },
  },
};

/** Dapr's sidecar injector registration, as Dapr's Helm chart creates it (its labels, its service). */
export function daprInjectorWebhook(version = '1.18.1', namespace = 'dapr-system') {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: 'dapr-sidecar-injector',
      labels: {
        app: 'dapr-sidecar-injector',
        'app.kubernetes.io/part-of': 'dapr',
        'app.kubernetes.io/version': version,
      } as Record<string, string>,
    },
    webhooks: [
      {
        name: 'sidecar-injector.dapr.io',
        clientConfig: { service: { namespace, name: 'dapr-sidecar-injector', path: '/mutate' } },
        rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }],
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
      },
    ],
  };
}
