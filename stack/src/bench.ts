/**
 * `npm run bench -- --orders N --concurrency C`: drives N orders through the
 * running local stack the way a client would (through a Dapr sidecar, with a
 * customer's token), C at a time, and measures each from POST /orders to the
 * moment GET /orders/:id shows PAID or CANCELLED. Prints a summary and ends with
 * one JSON line (completed, failed, ordersPerSecond, p50Ms, p95Ms, p99Ms, ...).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { topicPlan } from '@ecom/shared';
import { z } from 'zod';
import { kafkaClient } from './health';
import { loadStackSettings, type StackSettings } from './settings';
import { LOCAL_DAPR_NAMESPACE } from './stack';

const options = z.object({
  orders: z.coerce.number().int().min(1).default(200),
  concurrency: z.coerce.number().int().min(1).max(1_000).default(20),
  /** How often a waiting client looks at its order. */
  pollMs: z.coerce.number().int().min(10).default(100),
  /** An order not final after this long counts as failed. */
  timeoutMs: z.coerce.number().int().min(1_000).default(120_000),
  customers: z.coerce.number().int().min(1).default(10),
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
    init: { token?: string; body?: unknown } = {},
  ): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`http://127.0.0.1:${this.port}/v1.0/invoke/${appId}/method/${path}`, {
      method,
      headers: {
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      signal: AbortSignal.timeout(30_000),
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
      const answer = await client.call('order', 'GET', `orders/${orderId}`, { token });
      const seen = orderAnswer.safeParse(answer.body);
      if (seen.success && seen.data.status === 'PAID')
        return { orderId, ok: true, status: 'PAID', latencyMs: elapsed() };
      if (seen.success && seen.data.status === 'CANCELLED') {
        const detail = seen.data.cancellationReason;
        return { orderId, ok: true, status: 'CANCELLED', latencyMs: elapsed(), detail };
      }
      await new Promise((resolve) => setTimeout(resolve, o.pollMs));
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

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? 0;
}

async function bench(s: StackSettings, o: BenchOptions): Promise<void> {
  // Clients reach the shop through the public edge only.
  const client = new Client(s.ECOM_PORT_EDGE);
  const out = (line: string) => process.stdout.write(`${line}\n`);

  const adminToken = await login(client, s.ADMIN_EMAIL, s.ADMIN_PASSWORD);
  const sku = `bench-${randomUUID().slice(0, 13)}`;
  await client.expect(201, 'create product', 'inventory', 'POST', 'products', {
    token: adminToken,
    body: { sku, name: `Bench product ${sku}`, price: 999, currency: 'USD', stock: o.orders },
  });
  const tokens = await Promise.all(
    Array.from({ length: Math.min(o.customers, o.orders) }, () => newCustomerToken(client)),
  );
  out(
    `bench: ${o.orders} orders, concurrency ${o.concurrency}, sku ${sku} (stock ${o.orders}), through the edge on port ${s.ECOM_PORT_EDGE}`,
  );

  const outcomes: OrderOutcome[] = [];
  let next = 0;
  const offsetsBefore = await outboxOffsets(s.ECOM_PORT_KAFKA);
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
  const summary = {
    orders: o.orders,
    concurrency: o.concurrency,
    completed: completed.length,
    paid: completed.filter((r) => r.status === 'PAID').length,
    cancelled: completed.filter((r) => r.status === 'CANCELLED').length,
    failed: failed.length,
    durationS: Number(wallS.toFixed(2)),
    ordersPerSecond: Number((completed.length / wallS).toFixed(2)),
    p50Ms: Math.round(percentile(latencies, 50)),
    p95Ms: Math.round(percentile(latencies, 95)),
    p99Ms: Math.round(percentile(latencies, 99)),
    maxMs: Math.round(latencies[latencies.length - 1] ?? 0),
    pollMs: o.pollMs,
    /** Messages through Dapr's internal outbox topics per second of the run (events, and rolled-back writes). */
    outboxEventsPerSecond: Number((outboxMessages / wallS).toFixed(2)),
    /** The same for the busiest single partition: Dapr handles about 1 message/s on one. */
    outboxBusiestPartitionPerSecond: Number((Math.max(0, ...perPartition) / wallS).toFixed(2)),
    outboxPartitions: perPartition.length,
    /** Order's commit → the saga starting on order_created (the outbox hop of the critical path). */
    outboxHopP50Ms: Math.round(percentile(hops, 50)),
    outboxHopP95Ms: Math.round(percentile(hops, 95)),
  };
  out(`outcomes: ${[...byStatus.entries()].map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  for (const f of failed.slice(0, 5)) out(`  failure: ${f.status} ${f.detail ?? ''}`);
  out(
    `completed ${summary.completed}/${o.orders} in ${summary.durationS} s: ${summary.ordersPerSecond} orders/s; ` +
      `POST→final p50 ${summary.p50Ms} ms, p95 ${summary.p95Ms} ms, p99 ${summary.p99Ms} ms, max ${summary.maxMs} ms ` +
      `(±${o.pollMs} ms polling); failed ${summary.failed}`,
  );
  out(
    `Dapr outbox: ${outboxMessages} messages through ${perPartition.length} internal partitions, ` +
      `${summary.outboxEventsPerSecond}/s; busiest partition ${summary.outboxBusiestPartitionPerSecond}/s ` +
      `(Dapr 1.18 handles about 1/s per partition); order commit → saga start p50 ${summary.outboxHopP50Ms} ms, ` +
      `p95 ${summary.outboxHopP95Ms} ms (of ${hops.length} orders)`,
  );
  out(JSON.stringify(summary));
}

const { values } = parseArgs({
  options: {
    orders: { type: 'string' },
    concurrency: { type: 'string' },
    'poll-ms': { type: 'string' },
    'timeout-ms': { type: 'string' },
    customers: { type: 'string' },
  },
});
const parsed = options.safeParse({
  orders: values.orders,
  concurrency: values.concurrency,
  pollMs: values['poll-ms'],
  timeoutMs: values['timeout-ms'],
  customers: values.customers,
});
if (!parsed.success) {
  process.stderr.write(
    `bench: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}\n`,
  );
  process.exit(2);
}
bench(loadStackSettings(), parsed.data).catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
