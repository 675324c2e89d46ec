import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { load, loadAll } from 'js-yaml';
import { resolveSpec } from '../src/api/resolve-spec';
import { renderStack } from '../src/render/render-stack';
import { buildCredentialsSecret, buildSigningKeySecret, cryptoSecretMaterial } from '../src/render/secrets';
import { admin, createNamespace, deleteNamespace, helmTemplate, OPERATOR_KINDS, REPO } from './helpers';

/**
 * Server-side dry-run (validation, defaulting, admission; nothing stored) of
 * everything the operator renders and everything the chart templates, on the
 * real API server with Dapr's own CRDs installed, so Dapr resources are checked
 * against Dapr's schemas too.
 */
const client = admin();
let ns: string;

const EXAMPLES = join(REPO, 'operator', 'examples');
const examples = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => [f, loadAll(readFileSync(join(EXAMPLES, f), 'utf8')) as KubernetesObject[]] as const);
const stackSpecOf = (docs: readonly KubernetesObject[]) =>
  (docs.find((d) => d.kind === 'EcomStack') as { spec?: unknown } | undefined)?.spec;

/** Dry-runs each object; returns the failures, so one run shows all of them. */
async function dryRun(objects: readonly KubernetesObject[]): Promise<string[]> {
  const failures: string[] = [];
  for (const obj of objects) {
    const withNs = structuredClone(obj);
    if (obj.kind !== 'CustomResourceDefinition' && withNs.metadata) withNs.metadata.namespace = ns;
    try {
      await client.apply(withNs, { dryRun: true });
    } catch (e) {
      failures.push(
        `${obj.kind ?? ''}/${obj.metadata?.name ?? ''}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  return failures;
}

beforeAll(async () => {
  ns = await createNamespace(client, 'dry');
});

afterAll(async () => {
  await deleteNamespace(client, ns);
});

const variants: [string, unknown][] = [
  ['the default spec', {}],
  ...examples.map(([file, docs]): [string, unknown] => [`examples/${file}`, stackSpecOf(docs)]),
  [
    'every option set',
    {
      images: {
        registry: 'registry.example.com/shop',
        tag: 'v2',
        pullPolicy: 'Always',
        pullSecrets: ['regcred'],
      },
      services: {
        saga: { replicas: 0 },
        auth: { replicas: 2, resources: { requests: { cpu: '100m' }, limits: { cpu: '1', memory: '1Gi' } } },
      },
      infrastructure: {
        postgres: { managed: { storageClassName: 'fast', storage: '20Gi', image: 'postgres:17' } },
      },
      dapr: {
        logLevel: 'debug',
        sidecarResources: { requests: { cpu: '10m' } },
        resiliency: { maxRetries: 0, timeout: '2s' },
      },
      notification: {
        email: { provider: 'smtp', smtp: { host: 'mail', credentialsSecretName: 'smtp-creds' } },
      },
      auth: { signingKeySecretName: 'jwt-key' },
    },
  ],
];

describe('server-side dry-run', () => {
  it.each(variants)('accepts every manifest the operator renders for %s', async (_name, spec) => {
    const resolved = resolveSpec(spec);
    if (!resolved.ok) throw new Error(resolved.problems.join('; '));
    const ctx = {
      name: 'shop',
      namespace: ns,
      uid: '0f1805a9-9c80-49e8-8703-3ee9a994cb33',
      spec: resolved.spec,
    };
    const objects = [
      ...renderStack(ctx),
      buildCredentialsSecret(ctx, cryptoSecretMaterial),
      buildSigningKeySecret(ctx, cryptoSecretMaterial),
    ];
    expect(objects.filter((o) => o.apiVersion.startsWith('dapr.io/')).length).toBeGreaterThanOrEqual(4);
    expect(await dryRun(objects)).toEqual([]);
  });

  it('accepts the example files as they are', async () => {
    expect(await dryRun(examples.flatMap(([, docs]) => docs))).toEqual([]);
  });

  it('accepts everything `helm template` renders, CRD included', async () => {
    const spec = stackSpecOf(examples.find(([f]) => f === 'ecomstack-external.yaml')?.[1] ?? []);
    const values = JSON.stringify({ stack: { enabled: true, spec } });
    const file = join(mkdtempSync(join(tmpdir(), 'ecom-values-')), 'values.json');
    writeFileSync(file, values);
    const objects = helmTemplate(ns, [
      '--include-crds',
      '-f',
      file,
      '--set',
      `operator.watchNamespaces={${ns}}`,
    ]);
    expect(objects.map((o) => o.kind).sort()).toEqual([...OPERATOR_KINDS, 'EcomStack'].sort());
    expect(await dryRun(objects)).toEqual([]);
  });

  it('would catch a Dapr resource that breaks Dapr’s schema (so the checks above mean something)', async () => {
    const broken = load(`
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: { name: broken }
spec: { version: v1, metadata: [] }
`) as KubernetesObject;
    const failures = await dryRun([broken]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/spec.type: Required value/);
  });

  it('does not store anything', async () => {
    await expect(
      client.get({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'shop-order' }),
    ).resolves.toBeUndefined();
    const stacks = await client.list('ecom-micro.io/v1alpha1', 'EcomStack', ns);
    expect(stacks).toEqual([]);
  });
});
