/**
 * `npm run bench -- --orders N --concurrency C`: drives N orders through the
 * running local stack the way a client would (through the public edge, with a
 * customer's token), C at a time, and measures each from POST /orders to the
 * moment GET /orders/:id shows PAID or CANCELLED. Prints a summary, what each
 * order cost in CPU, the bare-workflow floor, and ends with one JSON line
 * (completed, failed, ordersPerSecond, p50Ms, ..., cpuMsPerOrder, floorWfPerSecond, ratioToFloor,
 * floorCpuMsPerWorkflow, cpuRatioToFloor).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { topicPlan } from '@ecom/shared';
import { z } from 'zod';
import { serviceNode } from './binaries';
import { kafkaClient } from './health';
import { infrastructure } from './infrastructure';
import { clockTicksPerSecond, cpuMsPer, readTreeCpu, type CpuShare } from './process-cpu';
import { presentServices } from './services';
import { loadStackSettings, type StackSettings } from './settings';
import { LOCAL_DAPR_NAMESPACE } from './stack';
import { isAlive, readPid } from './supervisor';
import { measureWorkflowFloor, type FloorResult } from './workflow-floor';

const USAGE = `usage: npm run bench -- [options]
  --orders N            orders to place (default 200)
  --concurrency C       orders in flight at once (default 20)
  --customers N         customers the orders are spread over (default 10)
  --timeout-ms MS       an order not final after this long fails (default 120000)
  --wait-seconds S      each GET /orders/:id?waitSeconds=S long-polls up to S s (default 25)
  --poll                poll GET /orders/:id every --poll-ms instead of long-polling
  --poll-ms MS          the polling interval, and the pause after a failed long-poll (default 100)
  --no-floor            skip the bare-workflow floor (a throwaway sidecar, about 10-20 s)
  --floor-workflows N   floor workflows timed, at concurrency 20 (default 100)
  --idle-seconds S      first, the idle stack's CPU per second over S s (default 10; 0 skips)
`;

const options = z.object({
  orders: z.coerce.number().int().min(1).default(200),
  concurrency: z.coerce.number().int().min(1).max(1_000).default(20),
  /** How often a polling client looks at its order (and a long-polling one after a failed wait). */
  pollMs: z.coerce.number().int().min(10).default(100),
  /** Poll rather than long-poll: the way clients waited before GET /orders/:id?waitSeconds. */
  poll: z.boolean().default(false),
  /** How long each long-poll may wait (the order service's maximum is 30). */
  waitSeconds: z.coerce.number().int().min(1).max(30).default(25),
  floor: z.boolean().default(true),
  floorWorkflows: z.coerce.number().int().min(1).default(100),
  /** An order not final after this long counts as failed. */
  timeoutMs: z.coerce.number().int().min(1_000).default(120_000),
  customers: z.coerce.number().int().min(1).default(10),
  /** How long the idle stack's CPU is read for before anything else (0: not at all). */
  idleSeconds: z.coerce.number().int().min(0).max(600).default(10),
});
type BenchOptions = z.infer<typeof options>;

const tokenAnswer = z.object({ accessToken: z.string() });
const placedAnswer = z.object({ orderId: z.string() });
const orderAnswer = z.object({ status: z.string(), cancellationReason: z.string().optional() });

interface OrderOutcome {
  orderId?: string;
  ok: boolean;
  status: 'PAID' | 'CANCELLED' | 'REJECTED' | 'TIMEOUT' | 'ERROR';
  latencyMs: number;
  detail?: string;
}

class Client {
  constructor(private readonly port: number) {}

  async call(
    appId: string,
    method: string,
    path: string,
    init: { token?: string; body?: unknown; timeoutMs?: number } = {},
  ): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`http://127.0.0.1:${this.port}/v1.0/invoke/${appId}/method/${path}`, {
      method,
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: AbortSignal.timeout(init.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? (JSON.parse(text) as unknown) : {};
    } catch {
      // keep the text for the error message
    }
    return { status: response.status, body };
  }

  async expect(status: number, what: string, ...args: Parameters<Client['call']>): Promise<unknown> {
    const answer = await this.call(...args);
    if (answer.status !== status) {
      throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    }
    return answer.body;
  }
}

async function login(client: Client, email: string, password: string): Promise<string> {
  const body = await client.expect(200, `login ${email}`, 'auth', 'POST', 'auth/login', {
    body: { email, password },
  });
  return tokenAnswer.parse(body).accessToken;
}

async function newCustomerToken(client: Client): Promise<string> {
  const email = `bench-${randomUUID()}@example.com`;
  const password = `pw-${randomUUID()}`;
  await client.expect(201, 'register', 'auth', 'POST', 'auth/register', {
    body: { email, password, name: 'Bench Customer' },
  });
  return login(client, email, password);
}

async function driveOne(client: Client, o: BenchOptions, token: string, sku: string): Promise<OrderOutcome> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  try {
    const placed = await client.call('order', 'POST', 'orders', {
      token,
      body: { items: [{ sku, quantity: 1 }], paymentMethod: { token: 'tok_visa' } },
    });
    const accepted = placedAnswer.safeParse(placed.body);
    if (placed.status !== 202 || !accepted.success) {
      return { ok: false, status: 'REJECTED', latencyMs: elapsed(), detail: `POST ${placed.status}` };
    }
    const deadline = started + o.timeoutMs;
    const { orderId } = accepted.data;
    while (performance.now() < deadline) {
      const waitS = o.poll ? 0 : Math.min(o.waitSeconds, Math.ceil((deadline - performance.now()) / 1000));
      const answer = await client.call(
        'order',
        'GET',
        waitS > 0 ? `orders/${orderId}?waitSeconds=${waitS}` : `orders/${orderId}`,
        // The service answers by the wait's end; the margin covers the read and the hops.
        { token, timeoutMs: 30_000 + waitS * 1000 },
      );
      const seen = orderAnswer.safeParse(answer.body);
      if (seen.success && seen.data.status === 'PAID')
        return { orderId, ok: true, status: 'PAID', latencyMs: elapsed() };
      if (seen.success && seen.data.status === 'CANCELLED') {
        const detail = seen.data.cancellationReason;
        return { orderId, ok: true, status: 'CANCELLED', latencyMs: elapsed(), detail };
      }
      // A long-poll answers at once only when it failed: pause, so an outage is not hammered.
      if (o.poll || answer.status !== 200) await new Promise((resolve) => setTimeout(resolve, o.pollMs));
    }
    return { orderId, ok: false, status: 'TIMEOUT', latencyMs: elapsed() };
  } catch (error) {
    return {
      ok: false,
      status: 'ERROR',
      latencyMs: elapsed(),
      detail: error instanceof Error ? error.message : String(error),
    };
  }
}

/** The end offset of every partition of Dapr's internal outbox topics: how many messages went through each. */
async function outboxOffsets(kafkaPort: number): Promise<Map<string, number>> {
  const admin = kafkaClient(kafkaPort).admin();
  await admin.connect();
  try {
    const topics = topicPlan(LOCAL_DAPR_NAMESPACE).filter((t) => t.kind === 'outbox');
    const offsets = new Map<string, number>();
    for (const { topic } of topics) {
      for (const p of await admin.fetchTopicOffsets(topic))
        offsets.set(`${topic}/${p.partition}`, Number(p.high));
    }
    return offsets;
  } finally {
    await admin.disconnect();
  }
}

const sagaAnswer = z.object({ createdAt: z.string() });
const orderTimes = z.object({ createdAt: z.string() });

/**
 * The outbox hop on the saga's critical path, per order: from order's commit (the order's
 * createdAt) to the saga starting on its order_created (the saga's createdAt).
 */
async function outboxHops(client: Client, adminToken: string, orderIds: string[]): Promise<number[]> {
  const hops: number[] = [];
  for (const orderId of orderIds) {
    const [order, saga] = await Promise.all([
      client.call('order', 'GET', `orders/${orderId}`, { token: adminToken }),
      client.call('saga', 'GET', `sagas/${orderId}`, { token: adminToken }),
    ]);
    const placed = orderTimes.safeParse(order.body);
    const started = sagaAnswer.safeParse(saga.body);
    if (placed.success && started.success) {
      hops.push(Date.parse(started.data.createdAt) - Date.parse(placed.data.createdAt));
    }
  }
  return hops.sort((a, b) => a - b);
}

/** The pid of each running process of the stack, by its name in the supervisor (`postgres`, `order-dapr`, ...). */
function stackProcesses(s: StackSettings): Map<string, number> {
  const names = [
    ...infrastructure(s).map((p) => p.name),
    ...presentServices().flatMap((id) => [id, `${id}-dapr`]),
  ];
  const roots = new Map<string, number>();
  for (const name of names) {
    const pid = readPid(name);
    if (pid !== undefined && isAlive(pid)) roots.set(name, pid);
  }
  return roots;
}

/** The floor's concurrency, as issue 12 defines it (the bench's default order concurrency too). */
const FLOOR_CONCURRENCY = 20;

/** The floor, or why there is none: the orders' figures stand without it. */
async function floorOf(s: StackSettings, o: BenchOptions): Promise<FloorResult | string> {
  if (!o.floor) return 'skipped (--no-floor)';
  try {
    return await measureWorkflowFloor(s, {
      workflows: o.floorWorkflows,
      concurrency: FLOOR_CONCURRENCY,
      cpuOf: stackProcesses(s),
    });
  } catch (error) {
    return `failed: ${error instanceof Error ? error.message : String(error)}`;
  }
}

const round2 = (n: number) => Number(n.toFixed(2));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? 0;
}

/**
 * CPU ms per second of each stack process while nothing is asked of it: what every order pays a
 * share of, the more the fewer orders a second. Work left by an earlier run counts in it.
 */
async function idleBurn(s: StackSettings, seconds: number): Promise<CpuShare> {
  const processes = stackProcesses(s);
  const before = readTreeCpu(processes);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
  const elapsedS = (performance.now() - started) / 1_000;
  return cpuMsPer(before, readTreeCpu(processes), elapsedS, clockTicksPerSecond());
}

/** Process name and ms, one line each, largest first, then the sum. */
function cpuLines(cpu: CpuShare): string[] {
  return [
    ...Object.entries(cpu.perProcess)
      .sort(([, a], [, b]) => b - a)
      .map(([name, ms]) => `  ${name.padEnd(20)} ${ms.toFixed(2).padStart(9)}`),
    `  ${'sum'.padEnd(20)} ${cpu.total.toFixed(2).padStart(9)}`,
  ];
}

const roundedCpu = (cpu: CpuShare) => ({
  ...Object.fromEntries(Object.entries(cpu.perProcess).map(([name, ms]) => [name, round2(ms)])),
  total: round2(cpu.total),
});

async function bench(s: StackSettings, o: BenchOptions): Promise<void> {
  // Clients reach the shop through the public edge only.
  const client = new Client(s.ECOM_PORT_EDGE);
  const out = (line: string) => process.stdout.write(`${line}\n`);

  const idle = o.idleSeconds > 0 ? await idleBurn(s, o.idleSeconds) : undefined;
  if (idle) {
    out(`idle: CPU ms per second of each stack process over ${o.idleSeconds} s, nothing asked of it:`);
    for (const line of cpuLines(idle)) out(line);
  }

  const adminToken = await login(client, s.ADMIN_EMAIL, s.ADMIN_PASSWORD);
  const sku = `bench-${randomUUID().slice(0, 13)}`;
  await client.expect(201, 'create product', 'inventory', 'POST', 'products', {
    token: adminToken,
    body: { sku, name: `Bench product ${sku}`, price: 999, currency: 'USD', stock: o.orders },
  });
  const tokens = await Promise.all(
    Array.from({ length: Math.min(o.customers, o.orders) }, () => newCustomerToken(client)),
  );
  // Before the orders: their trailing work (notifications, outbox deliveries) would slow the floor,
  // and the floor's sidecar is gone before the first order is placed.
  const floor = await floorOf(s, o);
  out(
    typeof floor === 'string'
      ? `floor: ${floor}`
      : `floor: bare workflow of 4 chained no-op activities, ${floor.workflows} at concurrency ${floor.concurrency}: ${floor.workflowsPerSecond} workflows/s, ` +
          `CPU per workflow ${floor.cpuMsPerWorkflow ?? '(not measured)'} ms in the stack and its sidecar + ${floor.workerAndClientCpuMsPerWorkflow} ms in its worker and client`,
  );
  out(
    `bench: ${o.orders} orders, concurrency ${o.concurrency}, sku ${sku} (stock ${o.orders}), through the edge on port ${s.ECOM_PORT_EDGE}, ` +
      (o.poll ? `polling every ${o.pollMs} ms` : `long-polling up to ${o.waitSeconds} s`),
  );

  const outcomes: OrderOutcome[] = [];
  let next = 0;
  const offsetsBefore = await outboxOffsets(s.ECOM_PORT_KAFKA);
  const processes = stackProcesses(s);
  const ticksPerSecond = clockTicksPerSecond();
  const cpuBefore = readTreeCpu(processes);
  const clientCpuBefore = process.cpuUsage();
  const started = performance.now();
  const progress = setInterval(() => {
    out(`  ${outcomes.length}/${o.orders} done after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }, 5_000);
  try {
    await Promise.all(
      Array.from({ length: Math.min(o.concurrency, o.orders) }, async () => {
        for (let i = next++; i < o.orders; i = next++) {
          outcomes.push(await driveOne(client, o, tokens[i % tokens.length] ?? '', sku));
        }
      }),
    );
  } finally {
    clearInterval(progress);
  }
  const wallS = (performance.now() - started) / 1000;
  const cpuAfter = readTreeCpu(processes);
  const clientCpu = process.cpuUsage(clientCpuBefore);
  const offsetsAfter = await outboxOffsets(s.ECOM_PORT_KAFKA);
  const perPartition = [...offsetsAfter].map(([key, high]) => high - (offsetsBefore.get(key) ?? 0));
  const outboxMessages = perPartition.reduce((sum, n) => sum + n, 0);
  const hops = await outboxHops(
    client,
    adminToken,
    outcomes.flatMap((r) => (r.ok && r.orderId !== undefined ? [r.orderId] : [])).slice(0, 100),
  );

  const completed = outcomes.filter((r) => r.ok);
  const failed = outcomes.filter((r) => !r.ok);
  const latencies = completed.map((r) => r.latencyMs).sort((a, b) => a - b);
  const byStatus = new Map<string, number>();
  for (const r of outcomes) {
    const key = r.detail && r.status !== 'ERROR' ? `${r.status} (${r.detail})` : r.status;
    byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
  }
  const cpu = cpuMsPer(cpuBefore, cpuAfter, completed.length, ticksPerSecond);
  const clientCpuMs =
    completed.length > 0 ? (clientCpu.user + clientCpu.system) / 1000 / completed.length : 0;
  const ordersPerSecond = completed.length / wallS;
  const floorWfPerSecond = typeof floor === 'string' ? null : floor.workflowsPerSecond;
  const floorCpu =
    typeof floor === 'string' || floor.cpuMsPerWorkflow === undefined
      ? null
      : round2(floor.cpuMsPerWorkflow + floor.workerAndClientCpuMsPerWorkflow);
  const summary = {
    orders: o.orders,
    concurrency: o.concurrency,
    completed: completed.length,
    paid: completed.filter((r) => r.status === 'PAID').length,
    cancelled: completed.filter((r) => r.status === 'CANCELLED').length,
    failed: failed.length,
    durationS: Number(wallS.toFixed(2)),
    ordersPerSecond: round2(ordersPerSecond),
    p50Ms: Math.round(percentile(latencies, 50)),
    p95Ms: Math.round(percentile(latencies, 95)),
    p99Ms: Math.round(percentile(latencies, 99)),
    maxMs: Math.round(latencies[latencies.length - 1] ?? 0),
    /** How clients waited for the final status: long-polls of up to waitSeconds, or polls every pollMs. */
    wait: o.poll ? 'poll' : 'long-poll',
    waitSeconds: o.poll ? null : o.waitSeconds,
    pollMs: o.poll ? o.pollMs : null,
    /** Messages through Dapr's internal outbox topics per second of the run (events, and rolled-back writes). */
    outboxEventsPerSecond: Number((outboxMessages / wallS).toFixed(2)),
    /** The same for the busiest single partition: daprd's outbox handles about 10 messages/s on one. */
    outboxBusiestPartitionPerSecond: Number((Math.max(0, ...perPartition) / wallS).toFixed(2)),
    outboxPartitions: perPartition.length,
    /** Order's commit → the saga starting on order_created (the outbox hop of the critical path). */
    outboxHopP50Ms: Math.round(percentile(hops, 50)),
    outboxHopP95Ms: Math.round(percentile(hops, 95)),
    /** CPU ms per completed order of each stack process (with its children) over the run, and their sum. */
    cpuMsPerOrder: roundedCpu(cpu),
    /** CPU ms per second of each stack process while idle, before the run (null: --idle-seconds 0). */
    idleCpuMsPerSecond: idle ? roundedCpu(idle) : null,
    /** The bench client's own CPU per order, kept out of the total. */
    benchClientCpuMsPerOrder: round2(clientCpuMs),
    floorWfPerSecond,
    /** orders/s ÷ floor workflows/s: the share of bare Dapr Workflow's rate the whole shop reaches. */
    ratioToFloor: floorWfPerSecond ? round2(ordersPerSecond / floorWfPerSecond) : null,
    /**
     * CPU ms per floor workflow: the stack's processes and the floor's sidecar, plus this process
     * (the floor's worker, and its client, which cannot be told apart from it; a few ms at most).
     */
    floorCpuMsPerWorkflow: floorCpu,
    /**
     * CPU per order ÷ CPU per floor workflow, both from /proc in this run: how many bare workflows'
     * worth of CPU an order costs. A busy host raises both, so this holds where absolute CPU drifts.
     */
    cpuRatioToFloor: floorCpu ? round2(cpu.total / floorCpu) : null,
  };
  out(`outcomes: ${[...byStatus.entries()].map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  for (const f of failed.slice(0, 5)) out(`  failure: ${f.status} ${f.detail ?? ''}`);
  out(
    `completed ${summary.completed}/${o.orders} in ${summary.durationS} s: ${summary.ordersPerSecond} orders/s; ` +
      `POST→final p50 ${summary.p50Ms} ms, p95 ${summary.p95Ms} ms, p99 ${summary.p99Ms} ms, max ${summary.maxMs} ms ` +
      `(${o.poll ? `±${o.pollMs} ms polling` : 'long-polling'}); failed ${summary.failed}`,
  );
  out(
    `Dapr outbox: ${outboxMessages} messages through ${perPartition.length} internal partitions, ` +
      `${summary.outboxEventsPerSecond}/s; busiest partition ${summary.outboxBusiestPartitionPerSecond}/s ` +
      `(about 10/s per partition: 100 ms each); order commit → saga start p50 ${summary.outboxHopP50Ms} ms, ` +
      `p95 ${summary.outboxHopP95Ms} ms (of ${hops.length} orders)`,
  );
  out(`CPU per completed order, from /proc (each process with its children), ms:`);
  for (const line of cpuLines(cpu)) out(line);
  if (cpu.unmeasured.length > 0)
    out(`  not measured (restarted or stopped during the run): ${cpu.unmeasured.join(', ')}`);
  out(`  ${'bench client'.padEnd(20)} ${clientCpuMs.toFixed(2).padStart(9)}  (apart, not in the sum)`);
  out(
    floorWfPerSecond === null
      ? 'floor: none, so no ratio'
      : `floor ${floorWfPerSecond} workflows/s; orders/s ÷ floor = ${summary.ratioToFloor}; ` +
          `CPU per order ÷ CPU per floor workflow = ${summary.cpuRatioToFloor ?? '(not measured)'}`,
  );
  out(JSON.stringify(summary));
}

// The floor's workflow worker runs in this process, so it runs on the services' Node, as the saga's
// worker does: the ratio compares like with like. Started on another Node (npm run bench), the bench
// runs itself again on that one.
const servicesNode = serviceNode();
if (realpathSync(process.execPath) !== realpathSync(servicesNode)) {
  const script = process.argv[1] ?? 'stack/src/bench.ts';
  const again = spawnSync(servicesNode, ['--import', 'tsx', script, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(again.status ?? 1);
}

const { values } = parseArgs({
  options: {
    orders: { type: 'string' },
    concurrency: { type: 'string' },
    'poll-ms': { type: 'string' },
    poll: { type: 'boolean' },
    'wait-seconds': { type: 'string' },
    'no-floor': { type: 'boolean' },
    'floor-workflows': { type: 'string' },
    'timeout-ms': { type: 'string' },
    customers: { type: 'string' },
    'idle-seconds': { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const parsed = options.safeParse({
  orders: values.orders,
  concurrency: values.concurrency,
  pollMs: values['poll-ms'],
  poll: values.poll,
  waitSeconds: values['wait-seconds'],
  floor: values['no-floor'] !== true,
  floorWorkflows: values['floor-workflows'],
  timeoutMs: values['timeout-ms'],
  customers: values.customers,
  idleSeconds: values['idle-seconds'],
});
if (!parsed.success) {
  process.stderr.write(
    `bench: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}\n${USAGE}`,
  );
  process.exit(2);
}
bench(loadStackSettings(), parsed.data).catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
