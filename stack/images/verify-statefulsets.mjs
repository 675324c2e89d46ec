// Runs the managed backends' StatefulSets, exactly as the operator renders them for `spec: {}`, in
// Docker, and proves each image honours its contract: the same image, env (Secret references and
// $(VAR) expansion resolved as the kubelet does), args, uid/gid, fsGroup-owned volume (no copy-up
// from the image, as with a fresh PersistentVolumeClaim), ConfigMap mounts, dropped capabilities and
// memory limit; then the readiness and liveness probes, and per backend:
//   kafka     the topics Job as rendered, then produce/consume with the image's own tools; restart
//   postgres  every service's DATABASE_URL from the generated Secret; a restart keeps the data
//   redis     REDIS_URL as a service pod composes it, with the services' client (ioredis); the
//             append-only file survives a restart
//   mongodb   (engine ferretdb) insert/find through a service's MONGODB_URL, on the PostgreSQL above
// Everything runs on a Docker network made for the run and is removed afterwards.
//
//   npx tsx stack/images/verify-statefulsets.mjs        (from the repository root)
//   bash stack/provision/infra-images.sh verify         (builds the images first)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveSpec } from '../../operator/src/api/resolve-spec.ts';
import { renderStack } from '../../operator/src/render/render-stack.ts';
import { cryptoSecretMaterial, generatedSecrets } from '../../operator/src/render/secrets.ts';
import { names } from '../../operator/src/render/context.ts';
import { buildTopicsJob } from '../../operator/src/render/topics-job.ts';

const require = createRequire(import.meta.url);
const { MongoClient } = require('mongodb');
const { Redis } = require('ioredis');

const run = `${process.pid}`;
const network = `ecom-verify-${run}`;
const started = Date.now();
const say = (msg) => process.stdout.write(`[verify ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function docker(args, { input, allowFail = false } = {}) {
  const r = spawnSync('docker', args, { encoding: 'utf8', input, maxBuffer: 64 << 20 });
  if (r.status !== 0 && !allowFail) {
    throw new Error(
      `docker ${args.slice(0, 3).join(' ')} … failed (${r.status}): ${(r.stderr || r.stdout).trim()}`,
    );
  }
  return { ok: r.status === 0, out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim() };
}

// ---- the objects, as the operator renders them -------------------------------------------------
const resolved = resolveSpec({});
if (!resolved.ok) throw new Error(resolved.problems.join('; '));
const ctx = {
  name: 'shop',
  namespace: 'verify',
  uid: '0f1805a9-9c80-49e8-8703-3ee9a994cb33',
  spec: resolved.spec,
};
const objects = renderStack(ctx);
// Every Secret the operator generates, as the reconciler creates them.
const generated = generatedSecrets(ctx, cryptoSecretMaterial).map((g) => g.build());
const secrets = new Map(generated.map((g) => [g.metadata.name, g.stringData]));
const credentials = generated.find((g) => g.metadata.name === names.credentials(ctx));
const configMaps = new Map(
  objects.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data]),
);
const sets = new Map(
  objects
    .filter((o) => o.kind === 'StatefulSet')
    .map((o) => [o.metadata.labels['app.kubernetes.io/component'] ?? o.metadata.name, o]),
);

/** The kubelet's $(VAR) expansion: a reference to a defined variable is replaced, `$$` escapes. */
function expand(value, env) {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name) =>
    m === '$$' ? '$' : name in env ? env[name] : m,
  );
}

function resolveEnv(container) {
  const env = {};
  for (const e of container.env ?? []) {
    if (e.valueFrom?.secretKeyRef) {
      const { name, key } = e.valueFrom.secretKeyRef;
      const value = secrets.get(name)?.[key];
      if (value === undefined) throw new Error(`${container.name}: Secret ${name} has no key ${key}`);
      env[e.name] = value;
    } else env[e.name] = expand(e.value ?? '', env);
  }
  return env;
}

/** The first two messages of `order_created`, read inside the Kafka container with its own CLI. */
function readOrderCreated(kafka) {
  return docker([
    'exec',
    kafka.name,
    'kafka-console-consumer.sh',
    '--bootstrap-server',
    'localhost:9092',
    '--topic',
    'order_created',
    '--from-beginning',
    '--max-messages',
    '2',
    '--timeout-ms',
    '30000',
  ]);
}

const dockerMemory = (q) => q?.replace(/^(\d+)Mi$/, '$1m').replace(/^(\d+)Gi$/, '$1g');

const containers = [];
const volumes = [];
const tempDirs = [];

/** A pod of a StatefulSet (replica 0) as a container: returns its name and IP. */
function startPod(set) {
  const svc = set.metadata.name;
  const pod = set.spec.template.spec;
  const c = pod.containers[0];
  const name = `${svc}-0-${run}`;
  const host = `${svc}-0.${svc}.${ctx.namespace}.svc`;
  const sc = pod.securityContext ?? {};
  const env = resolveEnv(c);
  const args = [
    'run',
    '-d',
    '--name',
    name,
    '--hostname',
    `${svc}-0`,
    '--network',
    network,
    '--network-alias',
    host,
  ];
  if (sc.runAsUser !== undefined) args.push('--user', `${sc.runAsUser}:${sc.runAsGroup ?? sc.runAsUser}`);
  if (sc.fsGroup !== undefined) args.push('--group-add', String(sc.fsGroup));
  if (c.securityContext?.capabilities?.drop?.includes('ALL')) args.push('--cap-drop', 'ALL');
  if (c.securityContext?.allowPrivilegeEscalation === false) args.push('--security-opt', 'no-new-privileges');
  if (c.resources?.limits?.memory) args.push('--memory', dockerMemory(c.resources.limits.memory));
  for (const [k, v] of Object.entries(env)) args.push('-e', `${k}=${v}`);
  for (const m of c.volumeMounts ?? []) {
    if (m.name === 'data') {
      // A fresh claim: owned by root, group fsGroup, setgid (what the kubelet makes of fsGroup), and
      // mounted without Docker's copy-up of the image's directory.
      const vol = `${svc}-data-${run}`;
      docker(['volume', 'create', vol]);
      volumes.push(vol);
      docker([
        'run',
        '--rm',
        '--user',
        '0',
        '-v',
        `${vol}:/v`,
        '--entrypoint',
        'sh',
        'debian:bookworm-slim',
        '-c',
        `chown 0:${sc.fsGroup ?? 0} /v && chmod 2775 /v`,
      ]);
      args.push('--mount', `type=volume,src=${vol},dst=${m.mountPath},volume-nocopy=true`);
    } else {
      const source = pod.volumes.find((v) => v.name === m.name)?.configMap?.name;
      const data = configMaps.get(source);
      if (!data) throw new Error(`${svc}: volume ${m.name} is not a rendered ConfigMap`);
      const dir = mkdtempSync(path.join(tmpdir(), `${svc}-${m.name}-`));
      tempDirs.push(dir);
      for (const [file, content] of Object.entries(data))
        writeFileSync(path.join(dir, file), content, { mode: 0o644 });
      execFileSync('chmod', ['0755', dir]);
      args.push('-v', `${dir}:${m.mountPath}:ro`);
    }
  }
  if (c.command) args.push('--entrypoint', c.command[0]);
  args.push(c.image, ...(c.command ?? []).slice(1), ...(c.args ?? []).map((a) => expand(a, env)));
  docker(args);
  containers.push(name);
  return { name, set, container: c, env, host };
}

const ipOf = (name) =>
  docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', name]).out;

function tcpOpen(ip, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: ip, port, timeout: 2000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

async function probe(pod, p) {
  if (p.exec) return docker(['exec', pod.name, ...p.exec.command], { allowFail: true }).ok;
  if (p.tcpSocket) {
    const port =
      typeof p.tcpSocket.port === 'number'
        ? p.tcpSocket.port
        : pod.container.ports.find((x) => x.name === p.tcpSocket.port).containerPort;
    return tcpOpen(ipOf(pod.name), port);
  }
  throw new Error(`unsupported probe ${JSON.stringify(p)}`);
}

async function waitReady(pod, what = 'ready') {
  const t0 = Date.now();
  while (Date.now() - t0 < 180_000) {
    const state = docker(['inspect', '-f', '{{.State.Status}}', pod.name]).out;
    if (state !== 'running')
      throw new Error(`${pod.name} is ${state}:\n${docker(['logs', '--tail', '30', pod.name]).err}`);
    if (await probe(pod, pod.container.readinessProbe)) {
      if (!(await probe(pod, pod.container.livenessProbe)))
        throw new Error(`${pod.name}: readiness passes, liveness fails`);
      say(
        `${pod.set.metadata.name}: ${what} in ${((Date.now() - t0) / 1000).toFixed(1)} s (readiness and liveness probes pass)`,
      );
      return;
    }
    await sleep(1000);
  }
  throw new Error(`${pod.name} not ready after 180 s:\n${docker(['logs', '--tail', '30', pod.name]).err}`);
}

async function restart(pod) {
  docker(['restart', '-t', '30', pod.name]);
  await waitReady(pod, 'ready again after a restart');
}

/** A service pod's variable, resolved as the kubelet would. */
function serviceEnv(service, variable) {
  const d = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === `shop-${service}`);
  return resolveEnv(d.spec.template.spec.containers[0])[variable];
}

/** Runs a client container on the network (the image's own tools), returns stdout. */
const client = (image, ...args) => docker(['run', '--rm', '--network', network, image, ...args]).out;

function expectEqual(actual, expected, what) {
  if (actual !== expected)
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  say(`  ok: ${what}`);
}

async function main() {
  docker(['network', 'create', network]);
  const images = [...sets.values()].map((s) => s.spec.template.spec.containers[0].image);
  say(`images: ${images.join(', ')}`);
  // Parallel, as podManagementPolicy says: FerretDB starts before its PostgreSQL is up.
  const pods = Object.fromEntries([...sets].map(([k, s]) => [k, startPod(s)]));
  const { kafka, postgres, mongodb, redis } = pods;
  await Promise.all([waitReady(postgres), waitReady(redis), waitReady(kafka), waitReady(mongodb)]);

  // PostgreSQL: each service's own database through its URL, then a restart.
  const pgImage = postgres.container.image;
  for (const key of Object.keys(credentials.stringData).filter(
    (k) => k.startsWith('postgres-') && k !== 'postgres-password',
  )) {
    const service = key.slice('postgres-'.length);
    const url = credentials.stringData[key];
    expectEqual(
      client(pgImage, 'psql', url, '-Atc', 'select current_database()'),
      service,
      `postgres: ${service}'s DATABASE_URL reaches database ${service}`,
    );
  }
  const orderUrl = credentials.stringData['postgres-order'];
  client(pgImage, 'psql', orderUrl, '-c', 'create table verify(x int); insert into verify values (42)');
  const denied = docker(
    [
      'run',
      '--rm',
      '--network',
      network,
      pgImage,
      'psql',
      orderUrl.replace(/:[0-9a-f]+@/, ':wrong@'),
      '-c',
      'select 1',
    ],
    { allowFail: true },
  );
  expectEqual(
    denied.ok ? 'accepted' : /password authentication failed/.test(denied.err) ? 'refused' : denied.err,
    'refused',
    'postgres: a wrong password is refused',
  );

  // Redis: REDIS_URL as auth's pod composes it, with the client the services use (redis-cli 7.0
  // reads `redis://:password@host` as user "" and fails to log in; ioredis logs in as default).
  const redisUrl = serviceEnv('auth', 'REDIS_URL').replace(redis.host, ipOf(redis.name));
  const redisCall = async (...command) => {
    const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await r.connect();
      return await r.call(...command);
    } finally {
      r.disconnect();
    }
  };
  expectEqual(await redisCall('set', 'verify', 'kept'), 'OK', "redis: SET through auth's REDIS_URL");
  expectEqual(
    client(redis.container.image, 'redis-cli', '-h', redis.host, 'ping'),
    'NOAUTH Authentication required.',
    'redis: no password, no access',
  );

  // Kafka: the topics Job as rendered, then produce and consume with the image's tools.
  const job = buildTopicsJob(ctx);
  const jc = job.spec.template.spec.containers[0];
  const jobEnv = resolveEnv(jc);
  const jobArgs = [
    'run',
    '--rm',
    '--network',
    network,
    '--user',
    String(job.spec.template.spec.securityContext.runAsUser),
    '--cap-drop',
    'ALL',
    '--security-opt',
    'no-new-privileges',
    '--memory',
    dockerMemory(jc.resources.limits.memory),
  ];
  for (const [k, v] of Object.entries(jobEnv)) jobArgs.push('-e', `${k}=${v}`);
  jobArgs.push('--entrypoint', jc.command[0], jc.image, ...jc.command.slice(1));
  const t0 = Date.now();
  const jobOut = docker(jobArgs).out;
  expectEqual(
    jobOut.split('\n').pop().startsWith('topics ready:'),
    true,
    `kafka: the topics Job succeeds (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
  const list = docker([
    'exec',
    kafka.name,
    'kafka-topics.sh',
    '--bootstrap-server',
    'localhost:9092',
    '--list',
  ]).out.split('\n');
  expectEqual(
    list.includes('order_created') && list.includes('order_created_dlq'),
    true,
    `kafka: ${list.length} topics listed`,
  );
  docker(
    [
      'exec',
      '-i',
      kafka.name,
      'kafka-console-producer.sh',
      '--bootstrap-server',
      'localhost:9092',
      '--topic',
      'order_created',
    ],
    { input: 'verify-1\nverify-2\n' },
  );
  const consumed = readOrderCreated(kafka).out.split('\n').sort().join(',');
  expectEqual(consumed, 'verify-1,verify-2', 'kafka: produced messages are consumed');

  // FerretDB: insert/find through a service's MONGODB_URL (the host reaches the pod by IP).
  const mongoUrl = serviceEnv('auth', 'MONGODB_URL');
  const viaIp = mongoUrl.replace(mongodb.host, ipOf(mongodb.name));
  const mongoRoundTrip = async (doc) => {
    const c = new MongoClient(viaIp, { serverSelectionTimeoutMS: 10_000 });
    try {
      await c.connect();
      const col = c.db().collection('verify');
      if (doc) await col.insertOne(doc);
      return (await col.findOne({ _id: 'verify' }))?.value;
    } finally {
      await c.close();
    }
  };
  expectEqual(
    await mongoRoundTrip({ _id: 'verify', value: 'kept' }),
    'kept',
    `mongodb: insert/find through auth's MONGODB_URL (${mongoUrl})`,
  );
  const tables = client(
    pgImage,
    'psql',
    orderUrl.replace(/\/order\?/, '/ferretdb?'),
    '-Atc',
    "select count(*) from information_schema.tables where table_schema = 'auth'",
  );
  expectEqual(Number(tables) > 0, true, 'mongodb: the documents live in PostgreSQL database ferretdb');

  // Restarts keep the data.
  await Promise.all([restart(postgres), restart(redis), restart(kafka)]);
  await restart(mongodb);
  expectEqual(
    client(pgImage, 'psql', orderUrl, '-Atc', 'select x from verify'),
    '42',
    'postgres: data kept across a restart',
  );
  expectEqual(await redisCall('get', 'verify'), 'kept', 'redis: data kept across a restart');
  expectEqual(
    await mongoRoundTrip(),
    'kept',
    'mongodb: documents kept across restarts of FerretDB and PostgreSQL',
  );
  const again = readOrderCreated(kafka).out.split('\n').length;
  expectEqual(again, 2, 'kafka: messages kept across a restart (log directory formatted once)');
  expectEqual(
    docker(['logs', kafka.name])
      .err.split('\n')
      .filter((l) => l.includes('Formatting')).length +
      docker(['logs', kafka.name])
        .out.split('\n')
        .filter((l) => l.includes('Formatting')).length,
    1,
    'kafka: formatted on the first start only',
  );
}

function cleanup() {
  for (const c of containers) docker(['rm', '-f', '-v', c], { allowFail: true });
  for (const v of volumes) docker(['volume', 'rm', v], { allowFail: true });
  docker(['network', 'rm', network], { allowFail: true });
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}

try {
  await main();
  say('every managed backend runs as its StatefulSet says');
} catch (e) {
  say(`FAILED: ${e instanceof Error ? e.message : String(e)}`);
  for (const c of containers)
    say(`--- ${c}\n${docker(['logs', '--tail', '15', c], { allowFail: true }).err}`);
  process.exitCode = 1;
} finally {
  cleanup();
}
