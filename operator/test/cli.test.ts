import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { API_VERSION, KIND } from '../src/api/ecom-stack';
import { admin, createNamespace, deleteNamespace, eventually, kubeconfigPath, REPO } from './helpers';

/** `npm run operator -- --kubeconfig PATH` as a person runs it: a separate process, leader election on. */
const client = admin();
let ns: string;
let operator: ChildProcess | undefined;
let output = '';
const HEALTH_PORT = 18081;

beforeAll(async () => {
  ns = await createNamespace(client, 'cli');
});

afterAll(async () => {
  if (operator && operator.exitCode === null) operator.kill('SIGKILL');
  await deleteNamespace(client, ns);
});

describe('the operator command', () => {
  it('runs against a kubeconfig, takes the Lease, reconciles, and hands the Lease back on SIGTERM', async () => {
    operator = spawn(
      join(REPO, 'node_modules', '.bin', 'tsx'),
      [
        'operator/src/main.ts',
        '--kubeconfig',
        kubeconfigPath(),
        '--namespace',
        ns,
        '--health-port',
        String(HEALTH_PORT),
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    operator.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    operator.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(
      'operator ready',
      async () => (await fetch(`http://127.0.0.1:${HEALTH_PORT}/readyz`)).ok,
      60_000,
    ).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}\n${output}`);
    });
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace: ns,
      name: 'ecom-operator',
    };
    // Ready means started (a standby is ready too); leading follows once the Lease is taken.
    const held = await eventually('the Lease taken', async () => {
      const l = await client.get<{ spec: { holderIdentity?: string } } & { kind: string }>(lease);
      return l?.spec.holderIdentity ? l : undefined;
    });
    expect(held.spec.holderIdentity).toMatch(/-\d+$/);

    await client.apply({
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: 'shop', namespace: ns },
      spec: {},
    });
    // The backends come first (the services wait for them to be ready, which needs a kubelet).
    await eventually(
      'statefulsets created',
      async () => (await client.list('apps/v1', 'StatefulSet', ns)).length === 4,
    );

    const exited = new Promise<number | null>((resolve) => {
      operator?.once('exit', resolve);
    });
    operator.kill('SIGTERM');
    expect(await exited).toBe(0);
    const released = await client.get<{ spec: { holderIdentity?: string } } & { kind: string }>(lease);
    expect(released?.spec.holderIdentity ?? '').toBe('');
    expect(output).toContain('"message":"ecom-operator started"');
  });
});
