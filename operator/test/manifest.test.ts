import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { ensureBinaries } from '../../stack/src/cluster';
import { API_VERSION, KIND, type EcomStack } from '../src/api/ecom-stack';
import { admin, deleteNamespace, kubeconfigPath, OPERATOR_KINDS, REPO } from './helpers';

/**
 * The `kubectl apply` path, for real: `npm run manifest` renders one file, kubectl applies it
 * server-side to the test API server (into a namespace of its own, which the file creates), the CRD
 * is established and the RBAC and the operator's Deployment are stored; then the example EcomStack
 * is accepted by the CRD's schema, and an invalid one, or a broken manifest, is refused.
 */
const { kubectl: kubectlBin } = ensureBinaries();
const client = admin();
const ns = `manifest-${Date.now().toString(36)}`;
const file = join(mkdtempSync(join(tmpdir(), 'ecom-manifest-')), 'ecom-micro.yaml');
let objects: KubernetesObject[] = [];

function kubectl(args: string[], input?: string): { status: number | null; output: string } {
  const r = spawnSync(kubectlBin, ['--kubeconfig', kubeconfigPath(), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    ...(input === undefined ? {} : { input }),
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

const ref = (o: KubernetesObject) => ({
  apiVersion: o.apiVersion ?? '',
  kind: o.kind ?? '',
  name: o.metadata?.name ?? '',
  ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}),
});

beforeAll(() => {
  const r = spawnSync('bash', [join(REPO, 'stack/kind/manifest.sh'), '--namespace', ns, '--out', file], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`manifest.sh failed: ${r.stderr}`);
  expect(r.stdout.trim()).toBe(file);
  objects = (loadAll(readFileSync(file, 'utf8')) as (KubernetesObject | null)[]).filter(
    (o): o is KubernetesObject => o !== null,
  );
});

afterAll(async () => {
  // The namespace takes its objects along; the cluster-wide RBAC is named after it. The CRD stays:
  // the other tests' EcomStacks need it.
  await deleteNamespace(client, ns);
  for (const o of objects)
    if (o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding') await client.delete(ref(o));
});

describe('the kubectl apply path (npm run manifest)', () => {
  it('renders one file: the CRD, the namespace, the operator and its RBAC, and no EcomStack', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual([...OPERATOR_KINDS, 'Namespace'].sort());
    // The Namespace first among the objects that go into it: kubectl applies in file order.
    const first = objects.findIndex((o) => o.metadata?.namespace === ns);
    expect(objects.findIndex((o) => o.kind === 'Namespace')).toBeLessThan(first);
    for (const o of objects.filter((x) => x.metadata?.namespace !== undefined))
      expect(o.metadata?.namespace).toBe(ns);
  });

  it('is applied server-side: the CRD becomes established, the RBAC and the Deployment are stored', async () => {
    const applied = kubectl(['apply', '--server-side', '-f', file]);
    expect(applied).toMatchObject({ status: 0 });
    expect(applied.output).toMatch(/deployment.apps\/ecom-operator serverside-applied/);
    const established = kubectl([
      'wait',
      '--for',
      'condition=established',
      'crd/ecomstacks.ecom-micro.io',
      '--timeout=30s',
    ]);
    expect(established).toMatchObject({ status: 0 });
    for (const o of objects) {
      const live = await client.get(ref(o));
      expect({ object: `${o.kind ?? ''}/${o.metadata?.name ?? ''}`, stored: live !== undefined }).toEqual({
        object: `${o.kind ?? ''}/${o.metadata?.name ?? ''}`,
        stored: true,
      });
    }
    const operator = await client.get({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: ns,
      name: 'ecom-operator',
    });
    expect(operator?.metadata?.managedFields).toContainEqual(
      expect.objectContaining({ manager: 'kubectl', operation: 'Apply' }),
    );
  });

  it('then takes the example EcomStack, which the CRD defaults', async () => {
    const example = join(REPO, 'operator', 'examples', 'ecomstack.yaml');
    expect(kubectl(['apply', '--server-side', '-n', ns, '-f', example])).toMatchObject({ status: 0 });
    const stack = await client.get<EcomStack & { spec: { infrastructure: { kafka: { mode: string } } } }>({
      apiVersion: API_VERSION,
      kind: KIND,
      namespace: ns,
      name: 'shop',
    });
    expect(stack?.spec.infrastructure.kafka.mode).toBe('managed');
  });

  it('refuses an EcomStack the CRD’s schema rejects', () => {
    const bad = `apiVersion: ${API_VERSION}\nkind: ${KIND}\nmetadata: { name: bad }\nspec: { services: { order: { replicas: -1 } } }\n`;
    const r = kubectl(['apply', '--server-side', '-n', ns, '-f', '-'], bad);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/spec\.services\.order\.replicas/);
  });

  it('would refuse a broken manifest (so the checks above mean something)', () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'ecom-manifest-broken-')), 'broken.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('serviceAccountName: ecom-operator');
    writeFileSync(
      broken,
      text.replace('serviceAccountName: ecom-operator', 'serviceAccountNam: ecom-operator'),
    );
    const r = kubectl(['apply', '--server-side', '--dry-run=server', '-f', broken]);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/spec\.template\.spec\.serviceAccountNam: field not declared in schema/);
  });
});
