import { buildCrd } from './crd';
import type { Schema } from './structural-schema';
import { DEFAULT_MANAGED, DEFAULT_MONGO_MANAGED, SERVICE_PORTS } from './defaults';
import { SERVICE_NAMES } from './ecom-stack';
import { resolveSpec } from './resolve-spec';

/** Applies the schema's defaults the way the API server does (a default object is itself defaulted). */
function applySchemaDefaults(schema: Schema, value: unknown): unknown {
  let v = value === undefined ? structuredClone(schema.default) : value;
  if (
    schema.type === 'object' &&
    schema.properties &&
    v !== undefined &&
    v !== null &&
    typeof v === 'object'
  ) {
    const o = v as Record<string, unknown>;
    for (const [key, child] of Object.entries(schema.properties)) {
      const next = applySchemaDefaults(child, o[key]);
      if (next !== undefined) o[key] = next;
    }
    v = o;
  }
  return v;
}

function specSchema(): Schema {
  const crd = buildCrd() as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
  const root = crd.spec.versions[0]?.schema.openAPIV3Schema;
  const spec = root?.properties?.spec;
  if (!spec) throw new Error('no spec schema');
  return spec;
}

describe('resolveSpec', () => {
  it('fills every default from an empty spec', () => {
    const r = resolveSpec({});
    if (!r.ok) throw new Error(r.problems.join('; '));
    expect(r.spec.version).toBe('0.1.0');
    expect(Object.keys(r.spec.services)).toEqual([...SERVICE_NAMES]);
    for (const s of SERVICE_NAMES) expect(r.spec.services[s].replicas).toBe(1);
    expect(r.spec.infrastructure.kafka.mode).toBe('managed');
    expect(r.spec.infrastructure.postgres.managed).toEqual(DEFAULT_MANAGED.postgres);
    expect(r.spec.dapr.mtls).toBe(true);
    expect(r.spec.auth.accessTokenTtl).toBe('15m');
    expect(Object.values(SERVICE_PORTS)).toEqual([4001, 4002, 4003, 4004, 4005, 4006, 4007]);
  });

  it('agrees with the defaults the CRD schema publishes', () => {
    const defaulted = applySchemaDefaults(specSchema(), {});
    const fromSchema = resolveSpec(defaulted);
    const fromCode = resolveSpec({});
    expect(fromSchema).toEqual(fromCode);
    // The schema really defaulted something, so the comparison is not vacuous.
    expect(defaulted).toMatchObject({
      version: '0.1.0',
      infrastructure: { kafka: { mode: 'managed', partitions: 3 } },
    });
  });

  it('runs FerretDB as the managed MongoDB unless engine mongodb is chosen, each with its own image', () => {
    const resolve = (raw: unknown) => {
      const r = resolveSpec(raw);
      if (!r.ok) throw new Error(r.problems.join('; '));
      return r.spec.infrastructure.mongodb.managed;
    };
    expect(resolve({})).toEqual({ engine: 'ferretdb', ...DEFAULT_MONGO_MANAGED.ferretdb });
    expect(resolve({ infrastructure: { mongodb: { managed: { engine: 'mongodb' } } } })).toEqual({
      engine: 'mongodb',
      ...DEFAULT_MONGO_MANAGED.mongodb,
    });
    expect(
      resolve({ infrastructure: { mongodb: { managed: { image: 'reg.local/ferretdb:2' } } } }),
    ).toMatchObject({
      engine: 'ferretdb',
      image: 'reg.local/ferretdb:2',
    });
    // The schema leaves the image to the operator, so a chosen engine gets its own image from either path.
    const schemaDefaulted = applySchemaDefaults(specSchema(), {
      infrastructure: { mongodb: { managed: { engine: 'mongodb' } } },
    });
    expect(resolve(schemaDefaulted).image).toBe('mongo:7.0');
    // An external MongoDB may sit next to an external PostgreSQL, whatever the engine field says.
    expect(
      resolveSpec({
        infrastructure: {
          postgres: { mode: 'external', external: { secretName: 'pg' } },
          mongodb: { mode: 'external', external: { secretName: 'mongo' } },
        },
      }).ok,
    ).toBe(true);
  });

  it('keeps what the user set', () => {
    const r = resolveSpec({
      version: '1.2.3',
      images: { registry: 'registry.local/shop', tag: 'abc', pullPolicy: 'Always', pullSecrets: ['regcred'] },
      services: { order: { replicas: 3, env: { FEATURE_X: 'on' } } },
      infrastructure: {
        kafka: { mode: 'external', external: { brokersSecretRef: { name: 'k', key: 'brokers' } } },
      },
      dapr: { subscriptions: [{ name: 'audit', topic: 'order_paid', app: 'notification', route: '/audit' }] },
    });
    if (!r.ok) throw new Error(r.problems.join('; '));
    expect(r.spec.images).toEqual({
      registry: 'registry.local/shop',
      tag: 'abc',
      pullPolicy: 'Always',
      pullSecrets: ['regcred'],
    });
    expect(r.spec.services.order).toMatchObject({ replicas: 3, env: { FEATURE_X: 'on' } });
    expect(r.spec.infrastructure.kafka.external).toEqual({ brokersSecretRef: { name: 'k', key: 'brokers' } });
    expect(r.spec.dapr.subscriptions).toHaveLength(1);
  });

  it.each([
    [{ services: { order: { replicas: -1 } } }, 'spec.services.order.replicas'],
    [{ services: { shipping: {} } }, 'spec.services.shipping: unknown service'],
    [
      { infrastructure: { postgres: { mode: 'external' } } },
      'spec.infrastructure.postgres.external.secretName: required',
    ],
    [
      { infrastructure: { kafka: { mode: 'external' } } },
      'spec.infrastructure.kafka.external.brokersSecretRef: required',
    ],
    [{ infrastructure: { redis: { mode: 'cloud' } } }, 'spec.infrastructure.redis.mode: must be one of'],
    [{ dapr: { resiliency: { timeout: 'soon' } } }, 'spec.dapr.resiliency.timeout: not a duration'],
    [{ dapr: { tracing: { samplingRate: '2' } } }, 'spec.dapr.tracing.samplingRate'],
    [
      { dapr: { workflowRetention: { completed: 'a day' } } },
      'spec.dapr.workflowRetention.completed: not a duration',
    ],
    [{ auth: { accessTokenTtl: '2h' } }, 'spec.auth.accessTokenTtl: must be from 1s to 1h'],
    [{ auth: { accessTokenTtl: '100ms' } }, 'spec.auth.accessTokenTtl: must be from 1s to 1h'],
    [{ auth: { refreshTokenTtl: '0s' } }, 'spec.auth.refreshTokenTtl: must be at least 1s'],
    [{ notification: { email: { provider: 'smtp' } } }, 'spec.notification.email.smtp.host: required'],
    [{ images: { pullSecrets: ['Bad_Name'] } }, 'spec.images.pullSecrets[0]'],
    [
      { infrastructure: { kafka: { managed: { storage: 'lots' } } } },
      'spec.infrastructure.kafka.managed.storage',
    ],
    [
      { dapr: { subscriptions: [{ name: 'a', topic: 't', app: 'shipping', route: '/x' }] } },
      'spec.dapr.subscriptions[0].app: must be one of auth, user',
    ],
    [
      { infrastructure: { mongodb: { managed: { engine: 'wiredtiger' } } } },
      'spec.infrastructure.mongodb.managed.engine: must be one of ferretdb, mongodb',
    ],
    [
      { infrastructure: { postgres: { mode: 'external', external: { secretName: 'pg' } } } },
      'spec.infrastructure.mongodb.managed.engine: ferretdb keeps its documents in the managed PostgreSQL',
    ],
    ['not an object', 'spec: must be an object'],
  ])('reports %j', (raw, expected) => {
    const r = resolveSpec(raw);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.join('\n')).toContain(expected);
  });

  it('collects every problem, not just the first', () => {
    const r = resolveSpec({ services: { order: { replicas: 1000 } }, dapr: { logLevel: 'loud' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems).toHaveLength(2);
  });
});
