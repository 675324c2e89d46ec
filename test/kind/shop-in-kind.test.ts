import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  AppsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  PolicyV1Api,
  type KubernetesObject,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  API_VERSION,
  KIND,
  SERVICE_NAMES,
  type EcomStack,
  type ServiceName,
} from '../../operator/src/api/ecom-stack';
import { deploymentReadiness } from '../../operator/src/controller/readiness';
import { OWNED_KINDS } from '../../operator/src/controller/reconciler';
import { CREDENTIAL_KEYS } from '../../operator/src/render/connections';
import { FIELD_MANAGER, STACK_LABEL } from '../../operator/src/render/context';
import { kubectl as kubectlBinary } from '../../stack/src/binaries';
import { eventually } from '../../stack/test/support/eventually';
import {
  expectNothingBroken,
  judgeOrders,
  pause,
  placeRetrying,
  sagaMismatches,
  settledOrder,
  soldBy,
  steadyLoad,
  type Placed,
} from '../support/chaos';
import {
  availableOf,
  call,
  finalOrder,
  newCustomer,
  newProduct,
  order,
  paymentsOf,
  type Customer,
} from '../support/shop';

/**
 * The shop in a real kind cluster, as a platform engineer gets it from `npm run kind:up`: the operator
 * runs from the chart, the EcomStack becomes Ready, every app pod runs with its injected daprd, and
 * orders are paid (and refused) through the cluster's public edge, a payment pod dying mid-saga
 * included; internal routes answer nobody outside. With two replicas of every app, 50 concurrent
 * orders on a stock of 10 still sell exactly 10 while a saga and an inventory pod are deleted. Last,
 * deleting the EcomStack removes everything it made. `up.sh` builds whatever is missing first.
 */

const repoDir = path.resolve(__dirname, '../..');
const namespace = 'ecom';
const stackName = 'shop';
/** Where the shop's edge is port-forwarded: below the kernel's ephemeral port range. */
const forwardPort = Number(process.env.ECOM_KIND_FORWARD_PORT ?? 18500);
/** Where a service's sidecar is port-forwarded, to show what its API answers without the app's token. */
const sidecarForwardPort = forwardPort + 1;
const APPS = [...SERVICE_NAMES, 'edge'] as const;
type App = (typeof APPS)[number];
/** A replica count for each app. */
type Replicas = Record<App, number>;

let kc: KubeConfig;
let core: CoreV1Api;
let kubectl: string;
let kubeconfig: string;
const forwards: ChildProcess[] = [];

async function stack(): Promise<EcomStack | undefined> {
  const api = kc.makeApiClient(CustomObjectsApi);
  try {
    return (await api.getNamespacedCustomObject({
      group: API_VERSION.split('/')[0] ?? '',
      version: API_VERSION.split('/')[1] ?? '',
      namespace,
      plural: 'ecomstacks',
      name: stackName,
    })) as EcomStack;
  } catch {
    return undefined;
  }
}

/**
 * Forwards a local port to `target` (`svc/<name>` or `deploy/<name>`) as `kubectl port-forward` does
 * for a person, and waits until `probe` (a path on it) answers `expect`.
 */
async function portForward(target: string, ports: string, probe: string, expect: number): Promise<void> {
  const localPort = ports.split(':')[0] ?? '';
  const child = spawn(
    kubectl,
    [
      ...['--kubeconfig', kubeconfig, '-n', namespace, 'port-forward', '--address', '127.0.0.1'],
      ...[target, ports],
    ],
    { stdio: 'ignore' },
  );
  forwards.push(child);
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`kubectl port-forward exited (${child.exitCode})`);
      const res = await fetch(`http://127.0.0.1:${localPort}${probe}`, {
        signal: AbortSignal.timeout(2_000),
      });
      return res.status;
    },
    (status) => status === expect,
    { timeoutMs: 60_000, intervalMs: 500, what: `the port-forwarded ${target} answering` },
  );
}

/** The value of a key of a Secret of the stack. */
async function secretValue(name: string, key: string): Promise<string> {
  const secret = await core.readNamespacedSecret({ name, namespace });
  return Buffer.from(secret.data?.[key] ?? '', 'base64').toString();
}

/**
 * What one attempt from inside the edge's pod got: an HTTP status (http://...), `connected` (tcp://...),
 * or the network error's code (a connection dropped by a NetworkPolicy times out).
 */
interface Probe {
  status?: number;
  connected?: boolean;
  error?: string;
}

/** Runs `fetch(url)`, or a bare TCP connect for tcp://host:port, with node in the edge's app container. */
function fromEdgePod(url: string, headers: Record<string, string> = {}): Probe {
  const script = [
    'const [url, headers] = [process.argv[1], JSON.parse(process.argv[2])];',
    'const out = (o) => console.log(JSON.stringify(o));',
    'const failed = (e) => out({ error: String(e?.cause?.code ?? e?.code ?? e?.name ?? e) });',
    "if (url.startsWith('tcp://')) {",
    '  const { hostname, port } = new URL(url);',
    "  const socket = require('node:net').connect({ host: hostname, port: Number(port), timeout: 4000 });",
    "  socket.on('connect', () => { out({ connected: true }); socket.destroy(); });",
    "  socket.on('timeout', () => { out({ error: 'ETIMEDOUT' }); socket.destroy(); });",
    "  socket.on('error', failed);",
    '} else {',
    '  fetch(url, { headers, signal: AbortSignal.timeout(4000) }).then((r) => out({ status: r.status }), failed);',
    '}',
  ].join('\n');
  const run = spawnSync(
    kubectl,
    [
      ...['--kubeconfig', kubeconfig, '-n', namespace, 'exec', `deploy/${stackName}-edge`, '-c', 'edge'],
      ...['--', 'node', '-e', script, url, JSON.stringify(headers)],
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (run.status !== 0) throw new Error(`kubectl exec failed (${run.status ?? run.signal}): ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as Probe;
}

/** The pods of one part of the stack (an app or a backend), by the labels its workload selects them by. */
async function podsOf(part: string): Promise<V1Pod[]> {
  const pods = await core.listNamespacedPod({
    namespace,
    labelSelector: `app.kubernetes.io/instance=${stackName},app.kubernetes.io/name=${part}`,
  });
  return pods.items;
}

/** The pods that run and are not on their way out. */
const running = (pods: V1Pod[]) =>
  pods.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);

async function podIp(app: string): Promise<string> {
  const ip = running(await podsOf(app))[0]?.status?.podIP;
  if (!ip) throw new Error(`no running ${app} pod`);
  return ip;
}

/** Each app's replicas in the EcomStack's spec (the API server fills in the default, 1). */
function replicasIn(s: EcomStack | undefined): Replicas {
  const spec = s?.spec as
    | { services?: Partial<Record<ServiceName, { replicas?: number }>>; edge?: { replicas?: number } }
    | undefined;
  return Object.fromEntries(
    APPS.map((app) => [app, (app === 'edge' ? spec?.edge : spec?.services?.[app])?.replicas ?? 1]),
  ) as Replicas;
}

const everyApp = (replicas: number): Replicas =>
  Object.fromEntries(APPS.map((app) => [app, replicas])) as Replicas;

/** Sets each app's replicas with a merge patch of the EcomStack, as `kubectl patch --type merge` does. */
async function setReplicas(replicas: Replicas): Promise<void> {
  await KubernetesObjectApi.makeApiClient(kc).patch(
    {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: stackName, namespace },
      spec: {
        services: Object.fromEntries(SERVICE_NAMES.map((s) => [s, { replicas: replicas[s] }])),
        edge: { replicas: replicas.edge },
      },
    },
    undefined,
    undefined,
    'shop-in-kind-test',
    undefined,
    PatchStrategy.MergePatch,
  );
}

/**
 * Waits until each app's Deployment runs its replicas, every pod of its current spec and ready, and
 * then until the operator reports the stack Ready at its current generation (the topics Job included).
 */
async function rolledOutAt(replicas: Replicas, timeoutMs: number): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  await eventually(
    async () => {
      const { items } = await apps.listNamespacedDeployment({
        namespace,
        labelSelector: `${STACK_LABEL}=${stackName}`,
      });
      return APPS.flatMap((app) => {
        const d = items.find((x) => x.metadata?.name === `${stackName}-${app}`);
        const want = replicas[app];
        const s = d?.status;
        const done =
          d?.spec?.replicas === want &&
          (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
          (s?.replicas ?? 0) === want &&
          (s?.updatedReplicas ?? 0) === want &&
          (s?.readyReplicas ?? 0) === want;
        return done ? [] : [`${app}: ${s?.readyReplicas ?? 0}/${want} ready of ${s?.replicas ?? 0}`];
      });
    },
    (waiting) => waiting.length === 0,
    { timeoutMs, intervalMs: 2_000, what: `every app at ${JSON.stringify(replicas)} ready replicas` },
  );
  await eventually(
    stack,
    (s) => {
      const ready = s?.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' && ready.observedGeneration === s?.metadata.generation;
    },
    // The topics Job of a new plan runs one Kafka CLI per topic: minutes on the busy node.
    { timeoutMs: 600_000, intervalMs: 2_000, what: 'the EcomStack Ready at its generation' },
  );
}

/** Runs a command that must succeed; returns its stdout. */
function run(command: string, args: string[], cwd = repoDir): string {
  const done = spawnSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (done.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${done.stderr}`);
  return done.stdout;
}

/** The image each app's Deployment runs. */
async function appImages(): Promise<Record<App, string>> {
  const { items } = await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({
    namespace,
    labelSelector: `${STACK_LABEL}=${stackName}`,
  });
  return Object.fromEntries(
    APPS.map((app) => {
      const d = items.find((x) => x.metadata?.name === `${stackName}-${app}`);
      const image = d?.spec?.template.spec?.containers.find((c) => c.image?.includes(`/ecom-${app}:`))?.image;
      return [app, image ?? ''];
    }),
  ) as Record<App, string>;
}

/**
 * Samples the app Deployments every second until `done`: which apps rolled (in the order they were
 * seen to start) and the most seen rolling at once. A rollout counts from its spec change until it is
 * ready, the test `kubectl rollout status` makes. A Deployment whose generation grew rolled too, even
 * when its whole rollout fell between two samples (a quick app, the edge, can be ready within one).
 */
async function watchRollouts(done: () => Promise<boolean>): Promise<{ order: string[]; most: number }> {
  const apps = kc.makeApiClient(AppsV1Api);
  const order: string[] = [];
  const firstGeneration = new Map<string, number>();
  let most = 0;
  const sample = async () => {
    // Asked before the listing below: once `done` saw every spec at its new version, that listing
    // sees each generation that grew. Asked after it, the last app's spec could change between the
    // two reads, and its roll go unseen.
    const finished = await done();
    const { items } = await apps.listNamespacedDeployment({
      namespace,
      labelSelector: `${STACK_LABEL}=${stackName}`,
    });
    const deployment = (app: string) => items.find((d) => d.metadata?.name === `${stackName}-${app}`);
    const rolling = APPS.filter((app) => !deploymentReadiness(deployment(app)).ready);
    for (const app of APPS) {
      const generation = deployment(app)?.metadata?.generation ?? 0;
      if (!firstGeneration.has(app)) firstGeneration.set(app, generation);
      const changed = generation > (firstGeneration.get(app) ?? generation);
      if ((changed || rolling.includes(app)) && !order.includes(app)) order.push(app);
    }
    most = Math.max(most, rolling.length);
    return rolling.length === 0 && finished;
  };
  await eventually(sample, (finished) => finished, {
    timeoutMs: 1_800_000,
    intervalMs: 1_000,
    what: 'every app rolled out at the new version',
  });
  return { order, most };
}

/** A NodePort Service of the test's own in front of the edge's pods; returns its URL on the node. */
async function nodePortToEdge(): Promise<string> {
  const edge = await core.readNamespacedService({ name: `${stackName}-edge`, namespace });
  const name = `${stackName}-edge-nodeport-test`;
  await core.deleteNamespacedService({ name, namespace }).catch(() => undefined);
  const created = await core.createNamespacedService({
    namespace,
    body: {
      metadata: { name },
      spec: {
        type: 'NodePort',
        selector: edge.spec?.selector ?? {},
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      },
    },
  });
  const nodePort = created.spec?.ports?.[0]?.nodePort;
  const { items } = await core.listNode();
  const ip = items[0]?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
  if (!nodePort || !ip) throw new Error(`no NodePort (${nodePort}) or node address (${ip})`);
  const url = `http://${ip}:${nodePort}`;
  await eventually(
    async () => (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) })).status,
    (status) => status === 200,
    { timeoutMs: 60_000, intervalMs: 500, what: "the edge answering on the node's port" },
  );
  return url;
}

/**
 * What of the stack is still there: the EcomStack's children (by its label), the PersistentVolumeClaims
 * of its StatefulSets and its pods; with `release`, also the chart's objects (the operator's
 * Deployment and pods, the EcomStack, helm's release record). Polls until none is left or the time is up.
 */
async function nothingLeft(timeoutMs: number, release = false): Promise<string[]> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const kinds = [
    ...OWNED_KINDS,
    { apiVersion: 'v1', kind: 'Secret' },
    { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
  ];
  const list = async (apiVersion: string, kind: string, selector?: string) =>
    (
      await objects.list<KubernetesObject>(
        apiVersion,
        kind,
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        selector,
      )
    ).items.map((o) => `${kind}/${o.metadata?.name ?? ''}`);
  const left = async () => {
    const found: string[] = [];
    for (const { apiVersion, kind } of kinds)
      found.push(...(await list(apiVersion, kind, `${STACK_LABEL}=${stackName}`)));
    found.push(...(await list('v1', 'Pod', `app.kubernetes.io/instance=${stackName}`)));
    if (release) {
      found.push(...(await list('v1', 'Pod')), ...(await list('apps/v1', 'Deployment')));
      found.push(...(await list(API_VERSION, KIND)), ...(await list('v1', 'Secret', 'owner=helm')));
    }
    return [...new Set(found)];
  };
  return eventually(left, (found) => found.length === 0, {
    timeoutMs,
    intervalMs: 2_000,
    what: release ? 'the release and every child of the EcomStack gone' : 'every child of the EcomStack gone',
  }).catch(left);
}

/**
 * Starts `npm run skaffold -- <args>` (stack/kind/skaffold.sh) in `cwd`, its output also in a log file
 * in the temp dir. `interrupt` is Ctrl-C; `done` resolves with the exit code and the whole output.
 */
function skaffold(cwd: string, args: string[]) {
  const child = spawn('bash', [path.join(cwd, 'stack/kind/skaffold.sh'), ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Outside the sources skaffold watches.
  const log = path.join(tmpdir(), `ecom-skaffold-${args[0] ?? ''}-${process.pid}.log`);
  let out = '';
  const take = (chunk: Buffer) => {
    out += chunk.toString();
    appendFileSync(log, chunk);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const done = new Promise<{ code: number | null; out: string }>((resolve) => {
    child.on('close', (code) => {
      if (code !== 0) {
        process.stderr.write(
          `[kind] skaffold ${args.join(' ')} exited ${code} (log: ${log}):\n${out.slice(-3000)}\n`,
        );
      }
      resolve({ code, out });
    });
  });
  return {
    done,
    output: () => out,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    interrupt: () => child.kill('SIGINT'),
  };
}

/**
 * The error lines (pino level 50 and up, daprd "error" and "fatal") each pod of `apps` logged in the last minute, from every
 * container, read at once: a pod that answered wrongly during a roll is gone by the time the test ends.
 */
async function recentErrors(apps: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  for (const app of apps) {
    for (const pod of await podsOf(app)) {
      for (const container of pod.spec?.containers ?? []) {
        const name = pod.metadata?.name ?? '';
        const source = `${name}/${container.name}`;
        let log: string;
        try {
          log = await core.readNamespacedPodLog({
            name,
            namespace,
            container: container.name,
            sinceSeconds: 60,
          });
        } catch (error) {
          lines.push(`${source}: no log: ${String(error).slice(0, 120)}`);
          continue;
        }
        for (const line of log.split('\n')) {
          if (/"level":(50|60|"error"|"fatal")/.test(line) || /level=(error|fatal)/.test(line))
            lines.push(`${source}: ${line.slice(0, 600)}`);
        }
      }
    }
  }
  return lines.slice(-20);
}

/**
 * Reads `url` back to back on one kept-alive connection at a time, as a client with a connection pool
 * does, until stopped: how many answers came and which were not 200 (status or error, with the time).
 * After the first failures, the error lines of `suspects`' pods at that moment come with them.
 */
function readProbe(url: string, suspects: readonly string[]) {
  let running = true;
  let answers = 0;
  const failures: string[] = [];
  const explained: Promise<string[]>[] = [];
  const done = (async () => {
    while (running) {
      let failure: string | undefined;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
        const body = await res.text();
        answers++;
        // The answer's start too: which hop failed (the edge, a sidecar, the app) is in its problem+json.
        if (res.status !== 200) failure = `${new Date().toISOString()} ${res.status} ${body.slice(0, 300)}`;
      } catch (error) {
        failure = `${new Date().toISOString()} ${String((error as Error).cause ?? error)}`;
      }
      if (failure !== undefined) {
        failures.push(failure);
        if (explained.length < 3) explained.push(recentErrors(suspects).catch((e: unknown) => [String(e)]));
      }
      await pause(100);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await done;
      const logged = (await Promise.all(explained)).flat();
      return { answers, failures, logged: [...new Set(logged)] };
    },
  };
}

/** The stack's PodDisruptionBudgets. */
async function disruptionBudgets() {
  const { items } = await kc.makeApiClient(PolicyV1Api).listNamespacedPodDisruptionBudget({
    namespace,
    labelSelector: `${STACK_LABEL}=${stackName}`,
  });
  return items;
}

/** Stock counters of a product, from inventory's database in the PostgreSQL pod (the API shows `available` only). */
function stockInCluster(sku: string): { available: number; reserved: number; sold: number } {
  if (!/^[-\w]+$/.test(sku)) throw new Error(`unexpected sku ${sku}`);
  const sql = `SELECT available, reserved, sold FROM products WHERE sku = '${sku}'`;
  const run = spawnSync(
    kubectl,
    [
      ...['--kubeconfig', kubeconfig, '-n', namespace, 'exec', `${stackName}-postgres-0`, '-c', 'postgres'],
      ...['--', 'psql', '-U', 'postgres', '-d', 'inventory', '-tA', '-F', ' ', '-c', sql],
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (run.status !== 0)
    throw new Error(`kubectl exec psql failed (${run.status ?? run.signal}): ${run.stderr}`);
  const [available, reserved, sold] = run.stdout.trim().split(' ').map(Number);
  if (sold === undefined) throw new Error(`no product ${sku}: ${run.stdout}`);
  return { available: available ?? NaN, reserved: reserved ?? NaN, sold };
}

beforeAll(async () => {
  const up = spawnSync('bash', [path.join(repoDir, 'stack/kind/up.sh')], {
    cwd: repoDir,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (up.status !== 0) throw new Error(`stack/kind/up.sh failed (exit ${up.status ?? up.signal})`);
  kubeconfig = up.stdout.trim().split('\n').pop() ?? '';
  kubectl = kubectlBinary();
  kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  const secret = await core.readNamespacedSecret({ name: `${stackName}-credentials`, namespace });
  process.env.ADMIN_EMAIL = `admin@${stackName}.${namespace}.local`;
  process.env.ADMIN_PASSWORD = Buffer.from(
    secret.data?.[CREDENTIAL_KEYS.adminPassword] ?? '',
    'base64',
  ).toString();
  // Every call of the shop client goes through the edge's Service, as a client's would.
  process.env.ECOM_SHOP_URL = `http://127.0.0.1:${forwardPort}`;
  await portForward(`svc/${stackName}-edge`, `${forwardPort}:http`, '/healthz', 200);
}, 60 * 60_000);

afterAll(() => {
  for (const child of forwards) child.kill();
  if (process.env.ECOM_KEEP_CLUSTER !== '1') {
    spawnSync('bash', [path.join(repoDir, 'stack/kind/up.sh'), '--down'], { cwd: repoDir, stdio: 'inherit' });
  }
}, 5 * 60_000);

describe('the shop in a kind cluster', () => {
  let customer: Customer;

  it('runs the operator in the cluster, from the chart', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const operator = await apps.readNamespacedDeployment({ name: 'ecom-operator', namespace });
    expect(operator.status?.readyReplicas).toBe(1);
    expect(operator.spec?.template.spec?.containers[0]?.image).toMatch(/^ecom-micro\/ecom-operator:/);
    // The leader's identity is `<pod name>-<pid>`: the operator that holds the Lease is that pod.
    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'ecom-operator', namespace });
    const pods = await core.listNamespacedPod({
      namespace,
      labelSelector: 'app.kubernetes.io/name=ecom-operator',
    });
    const names = pods.items.map((p) => p.metadata?.name ?? '');
    expect(names.some((n) => lease.spec?.holderIdentity?.startsWith(`${n}-`))).toBe(true);
  });

  it('reports the EcomStack Ready with every service', async () => {
    const s = await stack();
    const ready = s?.status?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'True', observedGeneration: s?.metadata.generation });
    // The seven services and the edge.
    expect(s?.status?.readyServices).toBe('8/8');
  });

  it('applies its own CRD and starts the services only after the topics exist', async () => {
    const crd = await KubernetesObjectApi.makeApiClient(kc).read({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'ecomstacks.ecom-micro.io' },
    });
    expect(crd.metadata?.managedFields?.map((f) => f.manager)).toContain(FIELD_MANAGER);
    const jobs = await kc.makeApiClient(BatchV1Api).listNamespacedJob({
      namespace,
      labelSelector: `${STACK_LABEL}=${stackName}`,
    });
    const topicsDone = jobs.items[0]?.status?.completionTime;
    expect(topicsDone).toBeDefined();
    const deployments = await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({
      namespace,
      labelSelector: `${STACK_LABEL}=${stackName}`,
    });
    expect(deployments.items).toHaveLength(APPS.length);
    for (const d of deployments.items) {
      expect(new Date(d.metadata?.creationTimestamp ?? 0).getTime()).toBeGreaterThanOrEqual(
        new Date(topicsDone ?? Date.now()).getTime() - 1_000,
      );
      expect(d.spec?.template.spec?.containers[0]?.image).toMatch(/^ecom-micro\/ecom-/);
    }
  });

  it('runs every app pod 2/2: the app and its injected daprd, which joins placement and the scheduler only in the saga', async () => {
    for (const service of APPS) {
      const pods = running(await podsOf(service));
      expect({ service, running: pods.length }).toEqual({ service, running: 1 });
      const statuses = pods[0]?.status?.containerStatuses ?? [];
      expect({ service, containers: statuses.map((c) => [c.name, c.ready]).sort() }).toEqual({
        service,
        containers: [
          ['daprd', true],
          [service, true],
        ].sort(),
      });
      const args = pods[0]?.spec?.containers.find((c) => c.name === 'daprd')?.args ?? [];
      const at = args.indexOf('--scheduler-host-address');
      const scheduler = at < 0 ? '' : (args[at + 1] ?? '');
      expect({
        service,
        placement: args.includes('--placement-host-address'),
        scheduler: scheduler !== '',
      }).toEqual({
        service,
        placement: service === 'saga',
        scheduler: service === 'saga',
      });
    }
  });

  it('registers, logs in and pays an order through the cluster', async () => {
    customer = await newCustomer('Kind Customer');
    const product = await newProduct(5, 1_999);
    const orderId = await order(customer, [{ sku: product.sku, quantity: 2 }]);
    expect(await finalOrder(customer, orderId, 120_000)).toMatchObject({ status: 'PAID', total: 3_998 });
    expect((await paymentsOf(orderId)).map((p) => [p.status, p.amount])).toEqual([['SUCCEEDED', 3_998]]);
    // The stack has no mail server: its e-mails go to notification's log, recorded as sent.
    const emails = await eventually(
      async () =>
        (
          await call<{ items: { orderId?: string; channel: string; status: string }[] }>(
            'notification',
            'GET',
            '/notifications?limit=50',
            { token: customer.token },
          )
        ).body.items.filter((n) => n.orderId === orderId && n.channel === 'email'),
      (found) => found.length > 0 && found.every((n) => n.status === 'sent'),
      { timeoutMs: 60_000, intervalMs: 500, what: "the order's e-mails sent through the log provider" },
    );
    expect(emails.length).toBeGreaterThan(0);
  });

  it('cancels a short-stock order and charges nothing', async () => {
    const product = await newProduct(1);
    const orderId = await order(customer, [{ sku: product.sku, quantity: 2 }]);
    expect(await finalOrder(customer, orderId, 120_000)).toMatchObject({ status: 'CANCELLED' });
    expect((await paymentsOf(orderId)).filter((p) => p.status === 'SUCCEEDED')).toEqual([]);
  });

  it('answers internal endpoints only to the platform, and a logged-out token nowhere', async () => {
    // /metrics and /readyz are for probes and scrapers on the pod, not for anyone reaching a sidecar.
    expect((await call('order', 'GET', '/metrics')).status).toBe(404);
    expect((await call('inventory', 'GET', '/readyz')).status).toBe(404);
    const someone = await newCustomer('Kind Leaver');
    expect((await call('order', 'GET', '/orders', { token: someone.token })).status).toBe(200);
    const out = await call('auth', 'POST', '/auth/logout', { token: someone.token });
    expect(out.status).toBeLessThan(300);
    for (const [app, path] of [
      ['order', '/orders'],
      ['user', '/users/me'],
      ['notification', '/notifications'],
    ] as const) {
      expect({ app, status: (await call(app, 'GET', path, { token: someone.token })).status }).toEqual({
        app,
        status: 401,
      });
    }
  });

  it('forwards public routes only: an internal route through the edge is 404', async () => {
    const someone = await newCustomer('Kind Outsider');
    const tries = [
      ['inventory', 'POST', '/internal/quotes'],
      ['inventory', 'POST', '/internal/reservations'],
      ['payment', 'POST', '/internal/charges'],
      ['order', 'POST', `/internal/orders/${randomUUID()}/paid`],
      ['saga', 'POST', `/internal/sagas/${randomUUID()}/cancel`],
    ] as const;
    for (const [app, method, path] of tries) {
      const answer = await call(app, method, path, {
        token: someone.token,
        body: {},
        // A header the caller sets itself proves nothing: the edge drops it.
        headers: { 'dapr-caller-app-id': 'saga' },
      });
      expect({ app, path, status: answer.status }).toEqual({ app, path, status: 404 });
    }
    // Nor does it forward to anything but a service.
    expect((await call('edge', 'GET', '/healthz')).status).toBe(404);
  });

  it("refuses a service sidecar's API without the app's Dapr API token", async () => {
    await portForward(`deploy/${stackName}-order`, `${sidecarForwardPort}:3500`, '/v1.0/healthz', 204);
    const sidecar = `http://127.0.0.1:${sidecarForwardPort}/v1.0`;
    // auth's JWKS: a route order's identity may call (every verifier reads it).
    const jwks = `${sidecar}/invoke/auth/method/.well-known/jwks.json`;
    expect((await fetch(jwks)).status).toBe(401);
    expect((await fetch(`${sidecar}/metadata`)).status).toBe(401);
    // With order's own token the same call goes through (so the 401 above is the token's doing) ...
    const headers = { 'dapr-api-token': await secretValue(`${stackName}-order-dapr-api-token`, 'token') };
    expect((await fetch(jwks, { headers })).status).toBe(200);
    // ... and access control still refuses order what only the edge may call: a public route.
    expect((await fetch(`${sidecar}/invoke/inventory/method/products`, { headers })).status).toBe(403);
  });

  it("keeps other pods off a service's app port and its sidecar's API", async () => {
    const order = await podIp('order');
    // The sidecar's API listens on its pod's loopback only: nobody else even connects.
    expect(fromEdgePod(`http://${order}:3500/v1.0/healthz`).status).toBeUndefined();
    // The app port: the node image enforces NetworkPolicy (kube-network-policies, see
    // stack/images/kind-node/manifests/default-cni.yaml), so the operator's policy drops the connection
    // (it times out) before the app could even refuse a request without its app token.
    const direct = fromEdgePod(`http://${order}:4004/internal/orders/${randomUUID()}/paid`, {
      'dapr-caller-app-id': 'saga',
    });
    process.stderr.write(`[kind] NetworkPolicy: app port from the edge -> ${JSON.stringify(direct)}\n`);
    expect(direct.status).toBeUndefined();
    expect(direct.error).toBeDefined();
    // The backends take their own clients only: never the edge.
    const postgres = fromEdgePod(`tcp://${await podIp('postgres')}:5432`);
    expect(postgres.connected).toBeUndefined();
    expect(postgres.error).toBeDefined();
    // The edge's own port is open to everyone.
    expect(fromEdgePod(`http://${stackName}-edge.${namespace}.svc/healthz`).status).toBe(200);
  });

  it('leaves every order final when a payment pod is deleted mid-saga', async () => {
    const product = await newProduct(20);
    const orderIds: string[] = [];
    for (let i = 0; i < 6; i++) orderIds.push(await order(customer, [{ sku: product.sku, quantity: 1 }]));
    for (const p of await podsOf('payment')) {
      await core.deleteNamespacedPod({ name: p.metadata?.name ?? '', namespace, gracePeriodSeconds: 0 });
    }
    for (let i = 0; i < 4; i++) orderIds.push(await order(customer, [{ sku: product.sku, quantity: 1 }]));
    const finals = [];
    for (const id of orderIds) finals.push(await finalOrder(customer, id, 300_000));
    expect(finals.filter((o) => o.status === 'PENDING')).toEqual([]);
    // Every PAID order was charged once; no CANCELLED one kept a charge.
    for (const o of finals) {
      const succeeded = (await paymentsOf(o.orderId)).filter((p) => p.status === 'SUCCEEDED');
      expect({ order: o.orderId, charges: succeeded.length }).toEqual({
        order: o.orderId,
        charges: o.status === 'PAID' ? 1 : 0,
      });
    }
  });

  it("pays every order when Dapr's one Scheduler pod is deleted mid-saga: its jobs are on a volume", async () => {
    // stack/kind/dapr.sh runs one Scheduler in kind. Every workflow step is a Scheduler job, so one that
    // kept its etcd in memory would come back empty and leave these sagas waiting for ever.
    const schedulers = await core.listNamespacedPod({
      namespace: 'dapr-system',
      labelSelector: 'app=dapr-scheduler-server',
    });
    expect(schedulers.items.map((p) => p.metadata?.name)).toEqual(['dapr-scheduler-server-0']);
    const product = await newProduct(20);
    const orderIds: string[] = [];
    for (let i = 0; i < 6; i++) orderIds.push(await order(customer, [{ sku: product.sku, quantity: 1 }]));
    await core.deleteNamespacedPod({
      name: 'dapr-scheduler-server-0',
      namespace: 'dapr-system',
      gracePeriodSeconds: 0,
    });
    for (let i = 0; i < 4; i++) orderIds.push(await order(customer, [{ sku: product.sku, quantity: 1 }]));
    const finals = [];
    for (const id of orderIds) finals.push(await finalOrder(customer, id, 300_000));
    expect(finals.filter((o) => o.status === 'PENDING')).toEqual([]);
    // Twenty in stock for ten orders: a deadline that passed while the Scheduler was away is the one
    // way out other than PAID.
    for (const o of finals.filter((f) => f.status === 'CANCELLED')) {
      expect(o.cancellationReason).toBe('deadline_exceeded');
    }
    expect(finals.filter((o) => o.status === 'PAID').length).toBeGreaterThan(0);
  }, 600_000);

  it('loses no order and charges none twice while the Kafka and PostgreSQL pods are deleted mid-run', async () => {
    const customers = await Promise.all([newCustomer('Kind Chaos 1'), newCustomer('Kind Chaos 2')]);
    const products = await Promise.all([newProduct(1_000, 990), newProduct(1_000, 990)]);
    const probes: Placed[] = [];
    const recovery: Record<string, number> = {};
    const load = steadyLoad(customers, products, 0.5);
    try {
      for (const backend of ['kafka', 'postgres']) {
        await pause(10_000);
        const deletedAt = Date.now();
        const [pod] = await podsOf(backend);
        await core.deleteNamespacedPod({ name: pod?.metadata?.name ?? '', namespace, gracePeriodSeconds: 0 });
        // Its StatefulSet brings it back on the same volume; the shop recovers once a new order is final.
        const probe = await placeRetrying(customers[0], products[0], 1, false, 600_000);
        probes.push(probe);
        await settledOrder(probe, 600_000);
        recovery[backend] = Date.now() - deletedAt;
      }
      await pause(10_000);
    } finally {
      const placed = await load.stop();
      probes.push(...placed);
    }
    const verdict = await judgeOrders(probes, 600_000);
    const stock = await Promise.all(
      products.map(async (p) => ({
        sku: p.sku,
        available: await availableOf(p.sku),
        expected: 1_000 - soldBy(verdict.paid, p.sku),
      })),
    );
    process.stderr.write(
      `[kind] chaos: ${probes.length} orders, ${verdict.paid.length} paid, recovery ms ${JSON.stringify(recovery)}\n`,
    );
    expectNothingBroken({
      ...verdict.broken,
      stockNotConserved: stock.filter((s) => s.available !== s.expected),
    });
    expect(verdict.paid.length).toBeGreaterThan(0);
    // Each pod comes back through its StatefulSet (image already on the node, volume kept) and the
    // sidecars reconnect; on the 2-core machine that takes minutes, and the orders then drain.
  }, 1_800_000);

  it('sells exactly the stock with two replicas of every app while a saga and an inventory pod are deleted', async () => {
    const before = replicasIn(await stack());
    await setReplicas(everyApp(2));
    try {
      // Eight more app pods, each with its sidecar, on the 2-core node: minutes.
      await rolledOutAt(everyApp(2), 1_200_000);
      // One budget per app, each letting one of its two pods go at a time.
      const budgets = await eventually(
        disruptionBudgets,
        (found) =>
          found.length === APPS.length &&
          found.every((b) => b.status?.currentHealthy === 2 && b.status.disruptionsAllowed === 1),
        { timeoutMs: 120_000, intervalMs: 2_000, what: 'a PodDisruptionBudget per app covering its 2 pods' },
      );
      expect(budgets.map((b) => [b.metadata?.name, b.spec?.maxUnavailable]).sort()).toEqual(
        APPS.map((app) => [`${stackName}-${app}`, 1]).sort(),
      );
      // On several nodes (up.sh --workers N), each app's two pods run on two of them.
      const { items: nodes } = await core.listNode();
      if (nodes.length > 1) {
        const together: string[] = [];
        for (const app of APPS) {
          const hosts = new Set(running(await podsOf(app)).map((p) => p.spec?.nodeName));
          if (hosts.size < 2) together.push(`${app}: ${[...hosts].join(' ')}`);
        }
        expect(together).toEqual([]);
      }
      // The topics grew to two partitions per replica before any order (the stack is Ready only once
      // the topics Job of the new plan has succeeded, and the old Job is pruned).
      const jobs = await kc.makeApiClient(BatchV1Api).listNamespacedJob({
        namespace,
        labelSelector: `${STACK_LABEL}=${stackName}`,
      });
      expect(jobs.items.map((j) => j.status?.succeeded)).toEqual([1]);
      const plan = /TOPICS="([^"]*)"/.exec(
        jobs.items[0]?.spec?.template.spec?.containers[0]?.command?.[2] ?? '',
      );
      const orderCreated = plan?.[1]?.split(' ').find((t) => t.startsWith('order_created:'));
      expect(Number(orderCreated?.split(':')[1])).toBeGreaterThanOrEqual(4);

      const customers = await Promise.all(
        Array.from({ length: 5 }, (_, i) => newCustomer(`Kind Replica ${i}`)),
      );
      const product = await newProduct(10, 700);
      let accepted = 0;
      const placing = Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const placed = await placeRetrying(customers[i % customers.length] as Customer, product, 1, false);
          accepted++;
          return placed;
        }),
      );
      // Awaited below; until then a failed order must not surface as an unhandled rejection.
      placing.catch(() => undefined);
      // The pods go mid-run: a fifth of the orders accepted and their sagas reserving, the rest arriving.
      await eventually(
        () => Promise.resolve(accepted),
        (n) => n >= 10,
        { timeoutMs: 300_000, intervalMs: 100, what: '10 of the 50 orders accepted' },
      );
      const deleted: string[] = [];
      for (const app of ['saga', 'inventory']) {
        const victim = running(await podsOf(app))[0]?.metadata?.name;
        if (!victim) throw new Error(`no running ${app} pod`);
        await core.deleteNamespacedPod({ name: victim, namespace, gracePeriodSeconds: 0 });
        deleted.push(victim);
      }
      const placed = await placing;

      const verdict = await judgeOrders(placed, 900_000);
      const sagaMismatch = await sagaMismatches(placed, verdict.finals);
      const counters = stockInCluster(product.sku);
      const cancelled = verdict.finals.filter((o) => o.status === 'CANCELLED');
      const late = cancelled.filter((o) => o.cancellationReason === 'deadline_exceeded').length;
      process.stderr.write(
        `[kind] two replicas: ${placed.length} orders, ${verdict.paid.length} paid, ${cancelled.length} cancelled ` +
          `(${late} at their deadline), deleted ${deleted.join(' ')}, stock ${JSON.stringify(counters)}\n`,
      );
      expectNothingBroken({
        ...verdict.broken,
        sagaMismatch,
        stockNotConserved:
          counters.available === 0 && counters.reserved === 0 && counters.sold === 10 ? [] : [counters],
      });
      expect(verdict.paid).toHaveLength(10);
      expect(cancelled).toHaveLength(40);
      // Short stock, or the order's deadline: a saga whose pod was killed may wait for placement to move
      // its workflow past the order's 60 s (seen once in 40, on three nodes). Never anything else.
      for (const order of cancelled) {
        expect(['insufficient_stock', 'deadline_exceeded']).toContain(order.cancellationReason);
      }
      expect(await availableOf(product.sku)).toBe(0);
      // Each Deployment put a new pod in the deleted one's place.
      await rolledOutAt(everyApp(2), 600_000);
      const now = [...(await podsOf('saga')), ...(await podsOf('inventory'))].map((p) => p.metadata?.name);
      expect(now.filter((name) => deleted.includes(name ?? ''))).toEqual([]);
    } finally {
      await setReplicas(before);
    }
    // Back at its replicas, the operator prunes the budgets of the apps now below two.
    await rolledOutAt(before, 600_000);
    expect((await disruptionBudgets()).map((b) => b.metadata?.name).sort()).toEqual(
      APPS.filter((app) => before[app] >= 2)
        .map((app) => `${stackName}-${app}`)
        .sort(),
    );
    // Its own budget: the scale-up behind a new topics Job, the 50 sagas under the deletions, the
    // replacements and the scale-back each take minutes on the 2-core node.
  }, 2_700_000);

  it('upgrades spec.version one app at a time while orders keep being paid', async () => {
    // The same content under a new tag, loaded into the node: every pod template changes, as a release's would.
    const version = `0.1.0-up${Date.now().toString(36)}`;
    const current = await appImages();
    const refs = APPS.map((app) => `ecom-micro/ecom-${app}:${version}`);
    APPS.forEach((app, i) => run('docker', ['tag', current[app], refs[i] ?? '']));
    run('bash', [path.join(repoDir, 'stack/kind/cluster.sh'), 'load', '--name', 'ecom', ...refs]);
    // The orders reach the edge as a load balancer's would, through a NodePort on the node: the
    // Service sends each connection to a ready edge pod, where a port-forward stays bound to one pod.
    const edgeUrl = await nodePortToEdge();
    const shopUrl = process.env.ECOM_SHOP_URL;
    process.env.ECOM_SHOP_URL = edgeUrl;
    try {
      const customers = await Promise.all(
        Array.from({ length: 3 }, (_, i) => newCustomer(`Kind Upgrade ${i}`)),
      );
      const products = await Promise.all([newProduct(10_000, 300), newProduct(10_000, 500)]);
      const load = steadyLoad(customers, products, 0.5);
      const reads = readProbe(`${edgeUrl}/v1.0/invoke/inventory/method/products?limit=1`, [
        'edge',
        'inventory',
      ]);
      // Ready again means: every app's Deployment rolled out at the new version, the status observed.
      await KubernetesObjectApi.makeApiClient(kc).patch(
        {
          apiVersion: API_VERSION,
          kind: KIND,
          metadata: { name: stackName, namespace },
          spec: {
            version,
            images: { registry: 'ecom-micro' },
            services: Object.fromEntries(SERVICE_NAMES.map((s) => [s, { image: null }])),
            edge: { image: null },
          },
        },
        undefined,
        undefined,
        'shop-in-kind-test',
        undefined,
        PatchStrategy.MergePatch,
      );
      const rolling = await watchRollouts(async () => {
        const images = await appImages();
        return APPS.every((app) => images[app] === `ecom-micro/ecom-${app}:${version}`);
      });
      await rolledOutAt(everyApp(1), 600_000);
      const placed = await load.stop();
      const read = await reads.stop();
      const verdict = await judgeOrders(placed, 600_000);
      const failed = placed.filter((p, i) => !p.declined && verdict.finals[i]?.status !== 'PAID');
      process.stderr.write(
        `[kind] upgrade to ${version}: ${placed.length} orders, ${verdict.paid.length} paid, ` +
          `${failed.length} failed; ${read.answers} reads, ${read.failures.length} failed; ` +
          `rolled ${rolling.order.join(' → ')}, at most ${rolling.most} at once\n`,
      );
      expectNothingBroken({
        ...verdict.broken,
        failed: failed.map((p) => p.orderId),
        readsFailed: [...read.failures.slice(0, 5), ...read.logged],
      });
      // Enough orders to have crossed every app's roll: one per app on average at least. How long the
      // roll takes varies with the node (17 orders at 0.5/s in one run, 27-32 in others), so the count
      // is held to the apps, not to a duration.
      expect(placed.length).toBeGreaterThanOrEqual(APPS.length);
      // Every app rolled, each on its own.
      expect([...rolling.order].sort()).toEqual([...APPS].sort());
      expect(rolling.most).toBe(1);
    } finally {
      process.env.ECOM_SHOP_URL = shopUrl;
      await core.deleteNamespacedService({ name: `${stackName}-edge-nodeport-test`, namespace });
    }
  }, 2_400_000);

  it('removes every child when the EcomStack is deleted', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    await objects.delete({ apiVersion: API_VERSION, kind: KIND, metadata: { name: stackName, namespace } });
    expect(await nothingLeft(300_000)).toEqual([]);
  });

  describe('with skaffold, from a copy of the sources', () => {
    const copy = mkdtempSync(path.join(tmpdir(), 'ecom-skaffold-src-'));
    beforeAll(() => {
      const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard']);
      for (const file of files.split('\0').filter((f) => f && existsSync(path.join(repoDir, f)))) {
        mkdirSync(path.dirname(path.join(copy, file)), { recursive: true });
        copyFileSync(path.join(repoDir, file), path.join(copy, file));
      }
    });
    afterAll(() => {
      rmSync(copy, { recursive: true, force: true });
    });

    /**
     * The image each app runs when deployed from the copy as it is now: skaffold tags an image by a
     * digest of its inputs (inputDigest) and, as it loads rather than pushes it, deploys it under a
     * second tag, its image id.
     */
    const skaffoldImages = (): Record<string, string> => {
      const out = run('bash', [path.join(copy, 'stack/kind/skaffold.sh'), 'build', '--dry-run', '-q'], copy);
      const { builds } = JSON.parse(out) as { builds: { imageName: string; tag: string }[] };
      return Object.fromEntries(
        builds.map((b) => {
          const id = run('docker', ['image', 'inspect', '-f', '{{.Id}}', b.tag]).trim();
          return [b.imageName, `${b.imageName}:${id.replace(/^sha256:/, '')}`];
        }),
      );
    };

    it('deploys the shop with `skaffold run -p kind`', async () => {
      const { code } = await skaffold(copy, ['run']).done;
      expect(code).toBe(0);
      const built = skaffoldImages();
      const images = await appImages();
      expect(APPS.filter((app) => images[app] !== built[`ecom-micro/ecom-${app}`])).toEqual([]);
      await rolledOutAt(everyApp(1), 600_000);
    }, 2_400_000);

    it('rebuilds and rolls only the edited service under `skaffold dev`; Ctrl-C leaves nothing', async () => {
      const before = await appImages();
      const watching = (out: string) => out.split('Watching for changes').length - 1;
      const dev = skaffold(copy, ['dev']);
      let after: Record<App, string>;
      let built: (string | undefined)[];
      let expected: string | undefined;
      try {
        await eventually(
          () => Promise.resolve(dev.output()),
          (out) => watching(out) >= 1 || dev.exited(),
          { timeoutMs: 1_200_000, intervalMs: 2_000, what: 'skaffold dev deployed and watching' },
        );
        const mark = dev.output().length;
        // A new edit each run: an image skaffold built for the same inputs before is found in its cache
        // and deployed without a build.
        appendFileSync(
          path.join(copy, 'services/order/src/main.ts'),
          `\n// edited by the kind test at ${new Date().toISOString()}\n`,
        );
        const redeploy = await eventually(
          () => Promise.resolve(dev.output().slice(mark)),
          // A build, then watching again: the redeploy of this edit (skaffold may also run a loop of
          // its own first, such as the one it starts with in case its watcher missed a change).
          (out) => /Building \[[\s\S]*Watching for changes/.test(out) || dev.exited(),
          {
            timeoutMs: 900_000,
            intervalMs: 2_000,
            what: 'skaffold dev rebuilt and redeployed after the edit',
          },
        );
        built = [...redeploy.matchAll(/Building \[([^\]]+)\]/g)].map((m) => m[1]);
        after = await appImages();
        // Before Ctrl-C: skaffold dev removes the images it built when it stops.
        expected = skaffoldImages()['ecom-micro/ecom-order'];
      } finally {
        dev.interrupt();
      }
      // Ctrl-C: skaffold uninstalls what it deployed, and exits 0.
      expect((await dev.done).code).toBe(0);
      expect(built).toEqual(['ecom-micro/ecom-order']);
      expect(after.order).toBe(expected);
      expect(after.order).not.toBe(before.order);
      expect(APPS.filter((app) => app !== 'order' && after[app] !== before[app])).toEqual([]);
      expect(await nothingLeft(300_000, true)).toEqual([]);
    }, 2_400_000);
  });
});
