import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { ensureBinaries } from '../../stack/src/cluster';
import { readVersions } from '../../stack/src/settings';
import { admin, CHART, createNamespace, deleteNamespace, REPO } from './helpers';

/**
 * The chart and skaffold.yaml, checked by the real tools built from Go modules:
 * `helm lint`, and skaffold itself (`diagnose` parses and validates the config
 * against its schema; `render` runs the whole manifest pipeline: helm with the
 * values skaffold sets, images threaded into the EcomStack).
 */
const bins = ensureBinaries();
const client = admin();
// skaffold would otherwise phone home (update check, usage metrics); a private HOME keeps its config apart.
const skaffoldHome = mkdtempSync(join(tmpdir(), 'ecom-skaffold-home-'));
const skaffoldEnv = {
  ...process.env,
  HOME: skaffoldHome,
  SKAFFOLD_UPDATE_CHECK: 'false',
  SKAFFOLD_DISABLE_MONITORING: 'true',
  PATH: `${dirname(bins.helm)}:${process.env.PATH ?? ''}`,
};

function skaffold(args: string[], cwd = REPO): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(bins.skaffold, [...args, '--update-check=false'], {
    cwd,
    env: skaffoldEnv,
    encoding: 'utf8',
    timeout: 110_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  execFileSync(bins.skaffold, ['config', 'set', '--global', 'collect-metrics', 'false'], {
    env: skaffoldEnv,
    stdio: 'ignore',
  });
});

describe('helm lint', () => {
  it.each([
    ['default values', []],
    ['the kind values', ['-f', join(CHART, 'examples', 'kind-values.yaml')]],
    [
      'the kind values with two replicas of every app',
      [
        ...['-f', join(CHART, 'examples', 'kind-values.yaml')],
        ...['-f', join(CHART, 'examples', 'replicas-values.yaml')],
      ],
    ],
    [
      'several watched namespaces',
      ['--set', 'operator.watchNamespaces={a,b}', '--set', 'stack.enabled=true'],
    ],
    [
      'the namespaces as objects (npm run manifest)',
      ['--set', 'namespace.create=true', '--set', 'operator.watchNamespaces={a,b}'],
    ],
  ])('passes with %s', (_name, args) => {
    const r = spawnSync(bins.helm, ['lint', CHART, '--strict', ...args], { encoding: 'utf8' });
    expect(r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(r.status).toBe(0);
  });
});

describe('Dockerfiles, parsed by BuildKit’s own parser', () => {
  const lint = (files: string[]) => spawnSync(bins.dockerfileLint, files, { encoding: 'utf8' });

  it('parse cleanly', () => {
    const r = lint([join(REPO, 'services', 'Dockerfile'), join(REPO, 'operator', 'Dockerfile')]);
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it('would catch a broken one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecom-dockerfile-'));
    const broken = join(dir, 'Dockerfile');
    writeFileSync(
      broken,
      readFileSync(join(REPO, 'services', 'Dockerfile'), 'utf8').replace('\nCOPY ', '\nCOPYY '),
    );
    const r = lint([broken]);
    expect(r.stdout).toMatch(/unknown instruction: COPYY/);
    expect(r.status).toBe(1);
  });

  it('run as a non-root user and ship production dependencies only', () => {
    const services = readFileSync(join(REPO, 'services', 'Dockerfile'), 'utf8');
    const operator = readFileSync(join(REPO, 'operator', 'Dockerfile'), 'utf8');
    for (const file of [services, operator]) {
      const runtime = file.slice(file.lastIndexOf('\nFROM '));
      expect(runtime).toMatch(/\nUSER 1000:1000\n/);
      expect(runtime).not.toMatch(/npm (ci|install)/);
    }
    expect(services).toMatch(/npm install --omit=dev/);
  });

  it("build on the Node base of stack/versions.env's NODE_VERSION, the Node the local stack runs the services on", () => {
    const { NODE_VERSION, DEBIAN_SUITE } = readVersions();
    const base = `node:${(NODE_VERSION ?? '').split('.').slice(0, 2).join('.')}-${DEBIAN_SUITE ?? ''}-slim`;
    for (const file of ['services', 'operator']) {
      const text = readFileSync(join(REPO, file, 'Dockerfile'), 'utf8');
      expect({ file, base: /^ARG NODE_IMAGE=(.+)$/m.exec(text)?.[1] }).toEqual({ file, base });
    }
  });
});

describe('skaffold.yaml, checked by skaffold', () => {
  it('parses and validates, with an artifact for the operator, each service and the edge', () => {
    const r = skaffold(['diagnose', '--yaml-only']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    const config = loadAll(r.stdout)[0] as { build: { artifacts: { image: string }[] } };
    expect(config.build.artifacts.map((a) => a.image).sort()).toEqual(
      ['operator', 'auth', 'user', 'notification', 'order', 'inventory', 'payment', 'saga', 'edge']
        .map((n) => `ecom-micro/ecom-${n}`)
        .sort(),
    );
  });

  it('would reject a broken config (so the check above means something)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecom-skaffold-'));
    writeFileSync(
      join(dir, 'skaffold.yaml'),
      readFileSync(join(REPO, 'skaffold.yaml'), 'utf8').replace('tagPolicy:', 'tagPolicyy:'),
    );
    const r = skaffold(['diagnose', '--yaml-only'], dir);
    expect(r.status).not.toBe(0);
    expect(r.stderr + r.stdout).toMatch(/tagPolicyy/);
  });

  it('renders the chart with the images it builds, and the result passes a server-side dry-run', async () => {
    const r = skaffold(['render', '-p', 'kind', '--digest-source=tag', '--offline=true']);
    expect(r.status).toBe(0);
    const docs = loadAll(r.stdout).filter((d): d is KubernetesObject => typeof d === 'object' && d !== null);
    const stack = docs.find((d) => d.kind === 'EcomStack') as
      { spec: { services: Record<string, { image: string }>; edge?: { image: string } } } | undefined;
    expect(Object.keys(stack?.spec.services ?? {}).sort()).toEqual([
      'auth',
      'inventory',
      'notification',
      'order',
      'payment',
      'saga',
      'user',
    ]);
    for (const [name, svc] of Object.entries(stack?.spec.services ?? {}))
      expect(svc.image).toMatch(new RegExp(`^ecom-micro/ecom-${name}:`));
    expect(stack?.spec.edge?.image).toMatch(/^ecom-micro\/ecom-edge:/);
    const ns = await createNamespace(client, 'skaffold');
    try {
      const failures: string[] = [];
      for (const doc of docs) {
        const obj = structuredClone(doc);
        if (obj.metadata) obj.metadata.namespace = ns;
        try {
          await client.apply(obj, { dryRun: true });
        } catch (e) {
          failures.push(
            `${obj.kind ?? ''}/${obj.metadata?.name ?? ''}: ${e instanceof Error ? e.message : String(e)}`,
          );
        }
      }
      expect(failures).toEqual([]);
    } finally {
      await deleteNamespace(client, ns);
    }
  });
});
