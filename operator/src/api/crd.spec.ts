import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { SERVICE_APP_IDS } from '@ecom/shared/access/who-may-call';
import { workflowStateRetention } from '@ecom/shared/dapr/components';
import { buildCrd } from './crd';
import type { Schema } from './structural-schema';
import { DEFAULT_DAPR } from './defaults';
import { SERVICE_NAMES } from './ecom-stack';

type Crd = ReturnType<typeof buildCrd> & {
  spec: {
    versions: {
      name: string;
      subresources: unknown;
      additionalPrinterColumns: { name: string }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
};

/** Structural schema: every node says its type (or is int-or-string / preserves unknown fields). */
function untypedPaths(schema: Schema, path: string): string[] {
  const here =
    schema.type === undefined &&
    !schema['x-kubernetes-int-or-string'] &&
    !schema['x-kubernetes-preserve-unknown-fields']
      ? [path]
      : [];
  const children = [
    ...Object.entries(schema.properties ?? {}).map(([k, s]) => untypedPaths(s, `${path}.${k}`)),
    schema.items ? untypedPaths(schema.items, `${path}[]`) : [],
    schema.additionalProperties ? untypedPaths(schema.additionalProperties, `${path}{}`) : [],
  ];
  return [...here, ...children.flat()];
}

describe('EcomStack CRD', () => {
  const crd = buildCrd() as Crd;
  const version = crd.spec.versions[0];

  it('is v1alpha1 with the status subresource and the printer columns', () => {
    expect(version?.name).toBe('v1alpha1');
    expect(version?.subresources).toEqual({ status: {} });
    expect(version?.additionalPrinterColumns.map((c) => c.name)).toEqual(
      expect.arrayContaining(['Ready', 'Age', 'Version']),
    );
  });

  it('has a structural schema', () => {
    if (!version) throw new Error('no version');
    expect(untypedPaths(version.schema.openAPIV3Schema, 'root')).toEqual([]);
  });

  it('refuses FerretDB (the default MongoDB engine) without the managed PostgreSQL it stores into', () => {
    const infra = version?.schema.openAPIV3Schema.properties?.spec?.properties?.infrastructure;
    const mongo = infra?.properties?.mongodb?.properties?.managed?.properties;
    expect(mongo?.engine).toMatchObject({ enum: ['ferretdb', 'mongodb'], default: 'ferretdb' });
    // The image follows the engine: the operator picks it, the schema must not pin one.
    expect(mongo?.image?.default).toBeUndefined();
    const rules = (infra?.['x-kubernetes-validations'] ?? []).map((v) => v.rule);
    expect(rules).toEqual([expect.stringContaining("self.mongodb.managed.engine != 'ferretdb'")]);
    expect(rules[0]).toContain("self.postgres.mode == 'managed'");
  });

  /** path → default, and the paths carrying CEL rules, of the schema below `node`. */
  function published(
    node: Schema,
    path: string,
    out = { defaults: {} as Record<string, unknown>, rules: [] as string[] },
  ) {
    if (node.default !== undefined) out.defaults[path] = node.default;
    if (node['x-kubernetes-validations']) out.rules.push(path);
    for (const [k, child] of Object.entries(node.properties ?? {})) published(child, `${path}.${k}`, out);
    if (node.items) published(node.items, `${path}[]`, out);
    return out;
  }

  it('publishes the defaults and CEL rules the hand-written CRD had (generated from the zod schema)', () => {
    const spec = version?.schema.openAPIV3Schema.properties?.spec;
    if (!spec) throw new Error('no spec schema');
    const { defaults, rules } = published(spec, 'spec');
    expect(defaults).toMatchObject({
      spec: {},
      'spec.version': '0.1.0',
      'spec.images': {},
      'spec.images.registry': 'ecom-micro',
      'spec.images.pullPolicy': 'IfNotPresent',
      'spec.services': {},
      'spec.services.order': {},
      'spec.services.order.replicas': 1,
      'spec.edge': {},
      'spec.edge.replicas': 1,
      'spec.infrastructure': {},
      'spec.infrastructure.kafka': {},
      'spec.infrastructure.kafka.mode': 'managed',
      'spec.infrastructure.kafka.managed': {},
      'spec.infrastructure.kafka.managed.image': 'ecom-micro/kafka:3.9.1',
      'spec.infrastructure.kafka.managed.storage': '2Gi',
      'spec.infrastructure.kafka.partitions': 3,
      'spec.infrastructure.postgres': {},
      'spec.infrastructure.postgres.mode': 'managed',
      'spec.infrastructure.postgres.managed': {},
      'spec.infrastructure.postgres.managed.image': 'ecom-micro/postgres:15',
      'spec.infrastructure.postgres.managed.storage': '2Gi',
      'spec.infrastructure.mongodb': {},
      'spec.infrastructure.mongodb.mode': 'managed',
      'spec.infrastructure.mongodb.managed': {},
      'spec.infrastructure.mongodb.managed.engine': 'ferretdb',
      'spec.infrastructure.mongodb.managed.storage': '2Gi',
      'spec.infrastructure.redis': {},
      'spec.infrastructure.redis.mode': 'managed',
      'spec.infrastructure.redis.managed': {},
      'spec.infrastructure.redis.managed.image': 'ecom-micro/redis:7',
      'spec.infrastructure.redis.managed.storage': '512Mi',
      'spec.dapr': {},
      'spec.dapr.logLevel': 'info',
      'spec.dapr.mtls': true,
      'spec.dapr.tracing': {},
      'spec.dapr.tracing.samplingRate': '1',
      'spec.dapr.workflowRetention': {},
      'spec.dapr.workflowRetention.completed': '24h',
      'spec.dapr.workflowRetention.failed': '720h',
      'spec.dapr.workflowRetention.terminated': '720h',
      'spec.dapr.resiliency': {},
      'spec.dapr.resiliency.timeout': '10s',
      'spec.dapr.resiliency.maxRetries': 5,
      'spec.dapr.resiliency.maxRetryInterval': '2s',
      'spec.notification': {},
      'spec.notification.email': {},
      'spec.notification.email.provider': 'log',
      'spec.notification.email.from': 'shop@ecom.local',
      'spec.notification.email.smtp.port': 587,
      'spec.notification.sms': {},
      'spec.notification.sms.provider': 'log',
      'spec.notification.push': {},
      'spec.notification.push.provider': 'log',
      'spec.auth': {},
      'spec.auth.accessTokenTtl': '15m',
      'spec.auth.refreshTokenTtl': '720h',
    });
    for (const s of SERVICE_NAMES) expect(defaults[`spec.services.${s}.replicas`]).toBe(1);
    expect(rules).toEqual(
      expect.arrayContaining([
        'spec.infrastructure',
        'spec.infrastructure.kafka',
        'spec.infrastructure.postgres',
        'spec.infrastructure.mongodb',
        'spec.infrastructure.redis',
        'spec.dapr.mtls',
        'spec.notification.email',
        // New with the schema: the operator refused these before, now the API server does too.
        'spec.auth.accessTokenTtl',
        'spec.auth.refreshTokenTtl',
      ]),
    );
    // Each rule blames the field the operator's own parse blames.
    const kafka = spec.properties?.infrastructure?.properties?.kafka?.['x-kubernetes-validations'];
    expect(kafka).toEqual([
      expect.objectContaining({ fieldPath: '.external.brokersSecretRef', reason: 'FieldValueRequired' }),
    ]);
  });

  it('is what the chart ships (regenerate with `npm run -w operator crd`)', () => {
    const file = join(__dirname, '../../../charts/ecom-micro/crds/ecomstacks.ecom-micro.io.yaml');
    expect(load(readFileSync(file, 'utf8'))).toEqual(JSON.parse(JSON.stringify(crd)));
  });
});

describe('the service names', () => {
  it("are the shared package's app ids, in the same order", () => {
    expect([...SERVICE_NAMES]).toEqual([...SERVICE_APP_IDS]);
  });
});

describe("the workflows' default state retention", () => {
  it("is the shared package's, which the local stack renders", () => {
    expect(DEFAULT_DAPR.workflowRetention).toEqual(workflowStateRetention);
  });
});
