/**
 * A real Kubernetes control plane without containers: etcd, kube-apiserver and
 * kube-controller-manager (garbage collection and namespace deletion only; no
 * scheduler, no kubelet) built from Go modules by stack/provision/kube.sh, run
 * as local processes. Used by the operator's integration tests and by people
 * who want to try the operator without kind.
 *
 *   tsx stack/src/cluster.ts up     start (or reuse) it; prints the kubeconfig path
 *   tsx stack/src/cluster.ts down   stop it and remove its data
 *   tsx stack/src/cluster.ts status print {running, kubeconfig, server} as JSON
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Health, KubeConfig } from '@kubernetes/client-node';
import { load as loadYaml, loadAll } from 'js-yaml';
import { buildCrd } from '../../operator/src/api/crd';
import { KubeClusterClient } from '../../operator/src/kube/kube-cluster-client';

const REPO = resolve(__dirname, '../..');

export interface ClusterPorts {
  apiserver: number;
  etcdClient: number;
  etcdPeer: number;
  controllerManager: number;
}

export interface ClusterInfo {
  kubeconfig: string;
  server: string;
  dir: string;
}

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  const port = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${name}=${raw ?? ''} is not a port`);
  return port;
}

/** Ports away from the local stack's (15432, 16379, 19092/3, 27027, 2525, 3501-3507, 4001-4007, 50005/6). */
export function clusterPorts(): ClusterPorts {
  return {
    apiserver: envPort('ECOM_KUBE_APISERVER_PORT', 16443),
    etcdClient: envPort('ECOM_KUBE_ETCD_PORT', 12379),
    etcdPeer: envPort('ECOM_KUBE_ETCD_PEER_PORT', 12380),
    controllerManager: envPort('ECOM_KUBE_CONTROLLER_MANAGER_PORT', 16444),
  };
}

export function clusterDir(): string {
  return process.env.ECOM_KUBE_DIR ?? join(REPO, '.stack', 'cluster');
}

function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(REPO, 'stack', 'versions.env'), 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

function cacheDir(): string {
  return (
    process.env.ECOM_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ecom-micro')
  );
}

/** Paths of the binaries, building them first (kube.sh is idempotent and locked). */
export function ensureBinaries(): {
  etcd: string;
  apiserver: string;
  controllerManager: string;
  kubectl: string;
  helm: string;
  skaffold: string;
  dockerfileLint: string;
} {
  const v = versions();
  const cache = cacheDir();
  const bins = {
    etcd: join(cache, `etcd-${v.ETCD_VERSION ?? ''}`, 'bin', 'etcd'),
    apiserver: join(cache, `kube-${v.KUBERNETES_VERSION ?? ''}`, 'bin', 'kube-apiserver'),
    controllerManager: join(cache, `kube-${v.KUBERNETES_VERSION ?? ''}`, 'bin', 'kube-controller-manager'),
    kubectl: join(cache, `kube-${v.KUBERNETES_VERSION ?? ''}`, 'bin', 'kubectl'),
    helm: join(cache, `helm-${v.HELM_VERSION ?? ''}`, 'bin', 'helm'),
    skaffold: join(cache, `skaffold-${v.SKAFFOLD_VERSION ?? '2.16.1'}`, 'bin', 'skaffold'),
    dockerfileLint: join(
      cache,
      `dockerfile-lint-buildkit-${v.BUILDKIT_VERSION ?? '0.21.1'}`,
      'bin',
      'dockerfile-lint',
    ),
  };
  if (!Object.values(bins).every((p) => existsSync(p))) {
    execFileSync('bash', [join(REPO, 'stack', 'provision', 'kube.sh'), 'all'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return bins;
}

/** The folder of Dapr's CRDs inside the dapr Go module (downloaded through the module proxy if needed). */
export function daprCrdDir(): string {
  return execFileSync('bash', [join(REPO, 'stack', 'provision', 'kube.sh'), 'dapr-crds'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A throwaway CA, the API server's serving cert, an admin client cert (system:masters) and the service-account key. */
function makePki(dir: string): void {
  if (existsSync(join(dir, 'admin.crt'))) return;
  mkdirSync(dir, { recursive: true });
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '3650',
    '-subj',
    '/CN=ecom-micro-test-ca',
  ]);
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n',
  );
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  const issue = (name: string, subject: string, ext: string) => {
    openssl(dir, [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    ]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '3650',
      '-extfile',
      ext,
    ]);
  };
  issue('server', '/CN=kube-apiserver', 'server.ext');
  issue('admin', '/O=system:masters/CN=ecom-admin', 'client.ext');
  openssl(dir, ['genrsa', '-out', 'sa.key', '2048']);
  openssl(dir, ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
}

function writeKubeconfig(dir: string, server: string): string {
  const b64 = (f: string) => readFileSync(join(dir, f)).toString('base64');
  const path = join(dir, 'kubeconfig');
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'ecom-micro', cluster: { server, 'certificate-authority-data': b64('ca.crt') } }],
    users: [
      {
        name: 'ecom-admin',
        user: { 'client-certificate-data': b64('admin.crt'), 'client-key-data': b64('admin.key') },
      },
    ],
    contexts: [
      { name: 'ecom-micro', context: { cluster: 'ecom-micro', user: 'ecom-admin', namespace: 'default' } },
    ],
    'current-context': 'ecom-micro',
  };
  writeFileSync(path, JSON.stringify(config, null, 2), { mode: 0o600 });
  return path;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(dir: string, name: string): number | undefined {
  const file = join(dir, `${name}.pid`);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && pidAlive(pid) ? pid : undefined;
}

/** Starts a long-running process detached, its output in DIR/NAME.log, its pid in DIR/NAME.pid. */
function startProcess(dir: string, name: string, bin: string, args: string[]): number {
  const out = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(bin, args, { cwd: dir, detached: true, stdio: ['ignore', out, out] });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  child.unref();
  writeFileSync(join(dir, `${name}.pid`), String(child.pid));
  return child.pid;
}

async function poll<T>(
  what: string,
  deadlineMs: number,
  probe: () => Promise<T | undefined>,
  logFile?: string,
): Promise<T> {
  const until = Date.now() + deadlineMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail =
    logFile && existsSync(logFile)
      ? `\n--- ${logFile} ---\n${readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n')}`
      : '';
  throw new Error(
    `${what} not ready after ${deadlineMs / 1000}s${last instanceof Error ? `: ${last.message}` : ''}${tail}`,
  );
}

/** GET on a component's self-signed HTTPS health endpoint (a liveness probe, not a trust decision). */
function httpsHealthy(url: string): Promise<true | undefined> {
  return new Promise((resolve, reject) => {
    const req = httpsGet(url, { rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : undefined);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: timed out`)));
    req.on('error', reject);
  });
}

function adminKubeConfig(kubeconfig: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc;
}

export function adminClient(kubeconfig: string): KubeClusterClient {
  return new KubeClusterClient(adminKubeConfig(kubeconfig), 'ecom-cluster-setup');
}

async function apiserverReady(kubeconfig: string): Promise<true | undefined> {
  return (await new Health(adminKubeConfig(kubeconfig)).readyz({})) ? true : undefined;
}

/** Installs (server-side apply) CRDs and waits until each is Established. */
export async function installCrds(client: KubeClusterClient, crds: Record<string, unknown>[]): Promise<void> {
  for (const crd of crds)
    await client.apply(crd as { apiVersion: string; kind: string; metadata: { name: string } });
  for (const crd of crds) {
    const name = (crd.metadata as { name: string }).name;
    await poll(`CRD ${name}`, 30_000, async () => {
      const got = await client.get<{
        apiVersion: string;
        kind: string;
        status?: { conditions?: { type: string; status: string }[] };
      }>({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        name,
      });
      return got?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
        ? true
        : undefined;
    });
  }
}

export function daprCrds(): Record<string, unknown>[] {
  const dir = daprCrdDir();
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => loadAll(readFileSync(join(dir, f), 'utf8')))
    .filter(
      (d): d is Record<string, unknown> =>
        typeof d === 'object' && d !== null && (d as { kind?: unknown }).kind === 'CustomResourceDefinition',
    );
}

/** Whether a cluster started by this module answers; returns its info if so. */
export async function runningCluster(): Promise<ClusterInfo | undefined> {
  const dir = clusterDir();
  const kubeconfig = join(dir, 'kubeconfig');
  const processes = ['etcd', 'kube-apiserver', 'kube-controller-manager'];
  if (!existsSync(kubeconfig) || processes.some((p) => readPid(dir, p) === undefined)) return undefined;
  try {
    if (!(await apiserverReady(kubeconfig))) return undefined;
  } catch {
    return undefined;
  }
  const server =
    (loadYaml(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] })
      .clusters[0]?.cluster.server ?? '';
  return { kubeconfig, server, dir };
}

/** Starts etcd, kube-apiserver and kube-controller-manager (or reuses the running ones); installs the CRDs. */
export async function clusterUp(log: (line: string) => void = () => undefined): Promise<ClusterInfo> {
  const existing = await runningCluster();
  if (existing) {
    log(`reusing the running API server at ${existing.server}`);
    // Cheap and idempotent: keeps the CRDs in step with the operator's code.
    await installCrds(adminClient(existing.kubeconfig), [...daprCrds(), buildCrd()]);
    return existing;
  }
  await clusterDown();
  const bins = ensureBinaries();
  const dir = clusterDir();
  const ports = clusterPorts();
  const pki = join(dir, 'pki');
  makePki(pki);
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const kubeconfig = writeKubeconfig(pki, server);
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, readFileSync(kubeconfig), { mode: 0o600 });

  const etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
  const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
  log(`starting etcd on ${etcdUrl}`);
  startProcess(dir, 'etcd', bins.etcd, [
    '--name=ecom',
    `--data-dir=${join(dir, 'etcd-data')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=ecom=${peerUrl}`,
    // A throwaway test cluster: durability is not worth the fsync latency.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ]);
  await poll(
    'etcd',
    30_000,
    async () => ((await fetch(`${etcdUrl}/health`)).ok ? true : undefined),
    join(dir, 'etcd.log'),
  );

  log(`starting kube-apiserver on ${server}`);
  startProcess(dir, 'kube-apiserver', bins.apiserver, [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${ports.apiserver}`,
    `--cert-dir=${pki}`,
    `--tls-cert-file=${join(pki, 'server.crt')}`,
    `--tls-private-key-file=${join(pki, 'server.key')}`,
    `--client-ca-file=${join(pki, 'ca.crt')}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${join(pki, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.96.0.0/24',
    // The loopback address cannot back the `kubernetes` Service's endpoints.
    '--endpoint-reconciler-type=none',
    '--allow-privileged=true',
    '--profiling=false',
    '--v=0',
  ]);
  await poll('kube-apiserver', 90_000, () => apiserverReady(kubeconfigPath), join(dir, 'kube-apiserver.log'));
  const client = adminClient(kubeconfigPath);

  log("installing Dapr's CRDs and the EcomStack CRD");
  await installCrds(client, [...daprCrds(), buildCrd()]);
  // After the CRDs: the garbage collector's first discovery then already knows EcomStacks as owners.
  log('starting kube-controller-manager (garbage collector, namespaces)');
  startProcess(dir, 'kube-controller-manager', bins.controllerManager, [
    `--kubeconfig=${kubeconfigPath}`,
    `--authentication-kubeconfig=${kubeconfigPath}`,
    `--authorization-kubeconfig=${kubeconfigPath}`,
    '--controllers=garbagecollector,namespace,serviceaccount',
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${ports.controllerManager}`,
    `--cert-dir=${join(dir, 'kcm-certs')}`,
    '--concurrent-gc-syncs=5',
    '--v=0',
  ]);
  await poll(
    'kube-controller-manager',
    60_000,
    () => httpsHealthy(`https://127.0.0.1:${ports.controllerManager}/healthz`),
    join(dir, 'kube-controller-manager.log'),
  );

  return { kubeconfig: kubeconfigPath, server, dir };
}

/** Stops every process this module started (by the pids it recorded) and removes the cluster's data. */
export async function clusterDown(): Promise<void> {
  const dir = clusterDir();
  if (!existsSync(dir)) return;
  for (const name of ['kube-controller-manager', 'kube-apiserver', 'etcd']) {
    const pid = readPid(dir, name);
    if (pid === undefined) continue;
    process.kill(pid, 'SIGTERM');
    const until = Date.now() + 15_000;
    while (pidAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
}

async function cli(command: string | undefined): Promise<void> {
  const say = (line: string) => process.stderr.write(`[cluster] ${line}\n`);
  switch (command) {
    case 'up': {
      const started = Date.now();
      const info = await clusterUp(say);
      say(`API server ready at ${info.server} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      say(
        `try: KUBECONFIG=${info.kubeconfig} npm run operator -- --kubeconfig ${info.kubeconfig} --no-leader-elect`,
      );
      process.stdout.write(`${info.kubeconfig}\n`);
      return;
    }
    case 'down':
      await clusterDown();
      say('stopped');
      return;
    case 'status': {
      const info = await runningCluster();
      process.stdout.write(`${JSON.stringify({ running: info !== undefined, ...(info ?? {}) })}\n`);
      return;
    }
    default:
      throw new Error('usage: cluster.ts up|down|status');
  }
}

if (require.main === module) {
  cli(process.argv[2]).catch((e: unknown) => {
    process.stderr.write(`[cluster] error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
