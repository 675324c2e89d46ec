import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { SERVICE_APP_IDS } from '@ecom/shared/access/who-may-call';
import { buildCrd, type Schema } from './crd';
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
