import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import {
  AppsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { API_VERSION, KIND, SERVICE_NAMES, type EcomStack } from '../../operator/src/api/ecom-stack';
import { OWNED_KINDS } from '../../operator/src/controller/reconciler';
import { CREDENTIAL_KEYS } from '../../operator/src/render/connections';
import { FIELD_MANAGER, STACK_LABEL } from '../../operator/src/render/context';
import { kubectl as kubectlBinary } from '../../stack/src/binaries';
import { eventually } from '../../stack/test/support/eventually';
import { call, finalOrder, newCustomer, newProduct, order, paymentsOf, type Customer } from '../support/shop';

/**
 * The shop in a real kind cluster, as a platform engineer gets it from `npm run kind:up`: the operator
 * runs from the chart, the EcomStack becomes Ready, every service pod runs with its injected daprd, and
 * orders are paid (and refused) through the cluster, a payment pod dying mid-saga included. Last,
 * deleting the EcomStack removes everything it made. `up.sh` builds whatever is missing first.
 */

const repoDir = path.resolve(__dirname, '../..');
const namespace = 'ecom';
const stackName = 'shop';
/** Where a sidecar of the shop is port-forwarded: below the kernel's ephemeral port range. */
const forwardPort = Number(process.env.ECOM_KIND_FORWARD_PORT ?? 18500);

let kc: KubeConfig;
let core: CoreV1Api;
let kubectl: string;
let forward: ChildProcess | undefined;

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

/** Forwards a local port to the order pod's sidecar (port 3500), as `kubectl port-forward` does for a person. */
async function forwardToSidecar(kubeconfig: string): Promise<void> {
  forward = spawn(
    kubectl,
    [
      ...['--kubeconfig', kubeconfig, '-n', namespace, 'port-forward', '--address', '127.0.0.1'],
      ...[`deploy/${stackName}-order`, `${forwardPort}:3500`],
    ],
    { stdio: 'ignore' },
  );
  await eventually(
    async () => {
      if (forward?.exitCode !== null) throw new Error(`kubectl port-forward exited (${forward?.exitCode})`);
      const res = await fetch(`http://127.0.0.1:${forwardPort}/v1.0/healthz`, {
        signal: AbortSignal.timeout(2_000),
      });
      return res.status;
    },
    (status) => status === 204,
    { timeoutMs: 60_000, intervalMs: 500, what: 'the port-forwarded sidecar answering' },
  );
}

beforeAll(async () => {
  const up = spawnSync('bash', [path.join(repoDir, 'stack/kind/up.sh')], {
    cwd: repoDir,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (up.status !== 0) throw new Error(`stack/kind/up.sh failed (exit ${up.status ?? up.signal})`);
  const kubeconfigPath = up.stdout.trim().split('\n').pop() ?? '';
  kubectl = kubectlBinary();
  kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  const secret = await core.readNamespacedSecret({ name: `${stackName}-credentials`, namespace });
  process.env.ADMIN_EMAIL = `admin@${stackName}.${namespace}.local`;
  process.env.ADMIN_PASSWORD = Buffer.from(
    secret.data?.[CREDENTIAL_KEYS.adminPassword] ?? '',
    'base64',
  ).toString();
  process.env.ECOM_SHOP_URL = `http://127.0.0.1:${forwardPort}`;
  await forwardToSidecar(kubeconfigPath);
}, 60 * 60_000);

afterAll(() => {
  forward?.kill();
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
    expect(s?.status?.readyServices).toBe('7/7');
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
    expect(deployments.items).toHaveLength(SERVICE_NAMES.length);
    for (const d of deployments.items) {
      expect(new Date(d.metadata?.creationTimestamp ?? 0).getTime()).toBeGreaterThanOrEqual(
        new Date(topicsDone ?? Date.now()).getTime() - 1_000,
      );
      expect(d.spec?.template.spec?.containers[0]?.image).toMatch(/^ecom-micro\/ecom-/);
    }
  });

  it('runs every service pod 2/2: the app and its injected daprd', async () => {
    for (const service of SERVICE_NAMES) {
      const pods = await core.listNamespacedPod({
        namespace,
        labelSelector: `app.kubernetes.io/instance=${stackName},app.kubernetes.io/name=${service}`,
      });
      const running = pods.items.filter(
        (p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp,
      );
      expect({ service, running: running.length }).toEqual({ service, running: 1 });
      const statuses = running[0]?.status?.containerStatuses ?? [];
      expect({ service, containers: statuses.map((c) => [c.name, c.ready]).sort() }).toEqual({
        service,
        containers: [
          ['daprd', true],
          [service, true],
        ].sort(),
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

  it('leaves every order final when a payment pod is deleted mid-saga', async () => {
    const product = await newProduct(20);
    const orderIds: string[] = [];
    for (let i = 0; i < 6; i++) orderIds.push(await order(customer, [{ sku: product.sku, quantity: 1 }]));
    const pods = await core.listNamespacedPod({
      namespace,
      labelSelector: `app.kubernetes.io/instance=${stackName},app.kubernetes.io/name=payment`,
    });
    for (const p of pods.items) {
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

  it('removes every child when the EcomStack is deleted', async () => {
    const objects = KubernetesObjectApi.makeApiClient(kc);
    await objects.delete({ apiVersion: API_VERSION, kind: KIND, metadata: { name: stackName, namespace } });
    const kinds = [
      ...OWNED_KINDS,
      { apiVersion: 'v1', kind: 'Secret' },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim' },
    ];
    const left = async () => {
      const found: string[] = [];
      for (const { apiVersion, kind } of kinds) {
        const list = await objects.list<KubernetesObject>(
          apiVersion,
          kind,
          namespace,
          undefined,
          undefined,
          undefined,
          undefined,
          `${STACK_LABEL}=${stackName}`,
        );
        found.push(...list.items.map((o) => `${kind}/${o.metadata?.name ?? ''}`));
      }
      const pods = await core.listNamespacedPod({
        namespace,
        labelSelector: `app.kubernetes.io/instance=${stackName}`,
      });
      found.push(...pods.items.map((p) => `Pod/${p.metadata?.name ?? ''}`));
      return found;
    };
    expect(
      await eventually(left, (found) => found.length === 0, {
        timeoutMs: 300_000,
        intervalMs: 2_000,
        what: 'every child of the EcomStack gone',
      }),
    ).toEqual([]);
  });
});
