import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import * as bin from './binaries';
import { httpHealthy, kafkaHealthy, mongoHealthy, postgresHealthy, redisHealthy } from './health';
import {
  dataDir,
  postgresDatabases,
  repoDir,
  runDir,
  StackError,
  stateDir,
  type StackSettings,
} from './settings';
import type { ProcessSpec } from './supervisor';

/** The infrastructure parts, in start order. Each is real: nothing here is a stand-in. */
export function infrastructure(s: StackSettings): ProcessSpec[] {
  return [postgres(s), redis(s), kafka(s), mongo(s), smtpSink(s), sentry(s), placement(s), scheduler(s)];
}

/** Parts that take their identity from Sentry, so start once it answers. */
export const needsSentry = new Set(['placement', 'scheduler']);

/**
 * Where Sentry keeps its root and issuer (made on its first start, kept across restarts), and the
 * trust anchors every sidecar, placement and the scheduler verify one another against.
 */
export const sentryCredentialsDir = path.join(dataDir, 'sentry');
export const trustAnchorsFile = path.join(sentryCredentialsDir, 'ca.crt');

/** The trust domain of the control plane's own identities (Sentry's default). */
const CONTROL_PLANE_TRUST_DOMAIN = 'localhost';

/** How a control-plane part or a sidecar reaches Sentry and checks what it is shown. */
export function mtlsArgs(s: StackSettings, kind: 'sidecar' | 'control-plane'): string[] {
  const sentryAddress = `127.0.0.1:${s.ECOM_PORT_SENTRY}`;
  return kind === 'sidecar'
    ? [
        '--enable-mtls',
        '--sentry-address',
        sentryAddress,
        '--control-plane-trust-domain',
        CONTROL_PLANE_TRUST_DOMAIN,
      ]
    : [
        '--tls-enabled',
        '--sentry-address',
        sentryAddress,
        '--trust-domain',
        CONTROL_PLANE_TRUST_DOMAIN,
        '--trust-anchors-file',
        trustAnchorsFile,
      ];
}

/**
 * Dapr Sentry in self-hosted mode: it signs each sidecar's certificate for the app id it asks for
 * (the "insecure" validator of self-hosted mode; it listens on loopback only, so only processes on
 * this machine can ask). Those SPIFFE identities are what the services' access-control policies check.
 */
function sentry(s: StackSettings): ProcessSpec {
  const config = path.join(runDir, 'sentry-config.yaml');
  return {
    name: 'sentry',
    command: bin.sentry(),
    args: [
      '--config',
      config,
      '--issuer-credentials',
      sentryCredentialsDir,
      '--trust-domain',
      CONTROL_PLANE_TRUST_DOMAIN,
      '--port',
      String(s.ECOM_PORT_SENTRY),
      '--listen-address',
      '127.0.0.1',
      '--healthz-port',
      String(s.ECOM_PORT_SENTRY_HEALTH),
      '--healthz-listen-address',
      '127.0.0.1',
      // Its metrics server would listen on every interface whatever the address flag says.
      '--enable-metrics=false',
      '--log-as-json',
    ],
    prepare: () => {
      mkdirSync(runDir, { recursive: true });
      mkdirSync(dataDir, { recursive: true });
      mkdirSync(sentryCredentialsDir, { recursive: true, mode: 0o700 });
      writeFileSync(
        config,
        [
          'apiVersion: dapr.io/v1alpha1',
          'kind: Configuration',
          'metadata:',
          '  name: daprsystem',
          'spec:',
          '  mtls:',
          '    enabled: true',
          '    workloadCertTTL: 24h',
          '    allowedClockSkew: 15m',
          '',
        ].join('\n'),
      );
    },
    ports: [s.ECOM_PORT_SENTRY, s.ECOM_PORT_SENTRY_HEALTH],
    healthy: () => httpHealthy(`http://127.0.0.1:${s.ECOM_PORT_SENTRY_HEALTH}/healthz`),
    startTimeoutMs: 30_000,
  };
}

function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

function postgres(s: StackSettings): ProcessSpec {
  const dir = path.join(dataDir, 'postgres');
  const socketDir = path.join(runDir, 'postgres');
  const owner = postgresUser();
  return {
    name: 'postgres',
    command: path.join(bin.postgresBinDir(), 'postgres'),
    args: [
      '-D',
      dir,
      '-p',
      String(s.ECOM_PORT_POSTGRES),
      '-k',
      socketDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=400',
      '-c',
      'shared_buffers=256MB',
    ],
    ...owner,
    ports: [s.ECOM_PORT_POSTGRES],
    healthy: () => postgresHealthy(s.ECOM_PORT_POSTGRES, s.ECOM_PG_USER),
    startTimeoutMs: 30_000,
  };
}

/** Creates the cluster on first start (trust auth on loopback only; local development). */
export function initPostgres(s: StackSettings): void {
  const dir = path.join(dataDir, 'postgres');
  const socketDir = path.join(runDir, 'postgres');
  const owner = postgresUser();
  // A state folder made private by an earlier run would lock the postgres user out of its data.
  if (owner && existsSync(stateDir) && (statSync(stateDir).mode & 0o001) === 0) chmodSync(stateDir, 0o755);
  for (const d of [dir, socketDir]) {
    // Parents stay traversable for the postgres user; only the leaf is private.
    mkdirSync(path.dirname(d), { recursive: true });
    mkdirSync(d, { recursive: true, mode: 0o700 });
    if (owner) chownSync(d, owner.uid, owner.gid);
  }
  if (existsSync(path.join(dir, 'PG_VERSION'))) return;
  try {
    execFileSync(
      path.join(bin.postgresBinDir(), 'initdb'),
      ['-D', dir, '-U', s.ECOM_PG_USER, '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'],
      { stdio: 'pipe', ...owner },
    );
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
    throw new StackError(`initdb failed: ${stderr.split('\n').pop() ?? ''}`, `remove ${dir} and retry`);
  }
}

/** One database per PostgreSQL service, plus Dapr's state store and FerretDB's backend. */
export async function createDatabases(s: StackSettings): Promise<void> {
  const client = new Client({
    host: '127.0.0.1',
    port: s.ECOM_PORT_POSTGRES,
    user: s.ECOM_PG_USER,
    database: 'postgres',
  });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database');
    const existing = new Set(rows.map((r) => r.datname));
    for (const db of postgresDatabases) {
      if (!existing.has(db)) await client.query(`CREATE DATABASE "${db}"`);
    }
  } finally {
    await client.end();
  }
}

function redis(s: StackSettings): ProcessSpec {
  return {
    name: 'redis',
    command: 'redis-server',
    args: [
      '--port',
      String(s.ECOM_PORT_REDIS),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
    ports: [s.ECOM_PORT_REDIS],
    healthy: () => redisHealthy(s.ECOM_PORT_REDIS),
    startTimeoutMs: 15_000,
  };
}

function kafkaConfigFile(): string {
  return path.join(dataDir, 'kafka', 'server.properties');
}

/** Writes the single-node KRaft configuration and formats the log directory once. */
export function initKafka(s: StackSettings): void {
  const dir = path.join(dataDir, 'kafka');
  const logs = path.join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const properties = [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${s.ECOM_PORT_KAFKA_CONTROLLER}`,
    `listeners=PLAINTEXT://127.0.0.1:${s.ECOM_PORT_KAFKA},CONTROLLER://127.0.0.1:${s.ECOM_PORT_KAFKA_CONTROLLER}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${s.ECOM_PORT_KAFKA}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${logs}`,
    'num.partitions=3',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Topics are created up front by the stack; a missing one should fail loudly.
    'auto.create.topics.enable=false',
    'log.retention.hours=24',
  ];
  writeFileSync(kafkaConfigFile(), `${properties.join('\n')}\n`);
  writeFileSync(
    path.join(dir, 'log4j.properties'),
    [
      'log4j.rootLogger=WARN, stdout',
      'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
      'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.kafka.server.KafkaServer=INFO',
      'log4j.logger.kafka.server.KafkaRaftServer=INFO',
    ].join('\n') + '\n',
  );
  if (existsSync(path.join(logs, 'meta.properties'))) return;
  try {
    execFileSync(
      'java',
      [
        '-cp',
        `${bin.kafkaLibs()}/*`,
        `-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        randomUUID().replaceAll('-', '').slice(0, 22),
        '-c',
        kafkaConfigFile(),
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim() ?? String(error);
    throw new StackError(
      `formatting Kafka's log directory failed: ${stderr.split('\n').pop() ?? ''}`,
      `remove ${dir} and retry`,
    );
  }
}

function kafka(s: StackSettings): ProcessSpec {
  const dir = path.join(dataDir, 'kafka');
  return {
    name: 'kafka',
    command: 'java',
    args: [
      '-Xms256m',
      '-Xmx768m',
      '-XX:+UseG1GC',
      // Only the quick (C1) JIT compiler. C2 spent 15-20 s of CPU optimising the broker after each
      // start (Kafka's CPU per order 24 over the first 300 orders, 12.7 over the next 600; C1 alone:
      // 10.0 and 8.3), and this broker is restarted by every `npm start` and chaos test. Fully
      // warmed, C2's code saves about 1 ms per order: it pays back after some 15,000 orders. The
      // in-cluster broker keeps the JVM's defaults (see docs/benchmark-log.md).
      '-XX:TieredStopAtLevel=1',
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${path.join(dir, 'log4j.properties')}`,
      '-cp',
      `${bin.kafkaLibs()}/*`,
      'kafka.Kafka',
      kafkaConfigFile(),
    ],
    ports: [s.ECOM_PORT_KAFKA, s.ECOM_PORT_KAFKA_CONTROLLER],
    healthy: () => kafkaHealthy(s.ECOM_PORT_KAFKA),
    startTimeoutMs: 90_000,
  };
}

function mongo(s: StackSettings): ProcessSpec {
  const server = bin.mongoServer();
  const dir = path.join(dataDir, server.kind);
  mkdirSync(dir, { recursive: true });
  const args =
    server.kind === 'mongod'
      ? ['--port', String(s.ECOM_PORT_MONGO), '--bind_ip', '127.0.0.1', '--dbpath', dir]
      : [
          '--handler=postgresql',
          `--postgresql-url=postgres://${s.ECOM_PG_USER}@127.0.0.1:${s.ECOM_PORT_POSTGRES}/ferretdb`,
          `--listen-addr=127.0.0.1:${s.ECOM_PORT_MONGO}`,
          '--telemetry=disable',
          `--state-dir=${dir}`,
          `--debug-addr=127.0.0.1:${s.ECOM_PORT_MONGO_DEBUG}`,
          '--log-format=json',
          '--log-level=WARN',
        ];
  return {
    name: 'mongo',
    command: server.path,
    args,
    env: { ...process.env, DO_NOT_TRACK: '1', FERRETDB_TELEMETRY: 'disable' },
    ports: [s.ECOM_PORT_MONGO],
    healthy: () => mongoHealthy(s.ECOM_PORT_MONGO),
    startTimeoutMs: 30_000,
  };
}

function smtpSink(s: StackSettings): ProcessSpec {
  return {
    name: 'smtp',
    // On the services' pinned Node, as the services run.
    command: bin.serviceNode(),
    args: ['--import', 'tsx', path.join(repoDir, 'stack', 'src', 'smtp-sink.ts')],
    cwd: repoDir,
    env: { ...process.env, SMTP_PORT: String(s.ECOM_PORT_SMTP), SMTP_API_PORT: String(s.ECOM_PORT_SMTP_API) },
    ports: [s.ECOM_PORT_SMTP, s.ECOM_PORT_SMTP_API],
    healthy: () => httpHealthy(`http://127.0.0.1:${s.ECOM_PORT_SMTP_API}/healthz`),
    startTimeoutMs: 20_000,
  };
}

function placement(s: StackSettings): ProcessSpec {
  return {
    name: 'placement',
    command: bin.placement(),
    args: [
      '--port',
      String(s.ECOM_PORT_PLACEMENT),
      '--healthz-port',
      String(s.ECOM_PORT_PLACEMENT_HEALTH),
      '--initial-cluster',
      `dapr-placement-0=127.0.0.1:${s.ECOM_PORT_PLACEMENT_RAFT}`,
      '--enable-metrics=false',
      '--log-as-json',
      '--listen-address',
      '127.0.0.1',
      ...mtlsArgs(s, 'control-plane'),
    ],
    ports: [s.ECOM_PORT_PLACEMENT, s.ECOM_PORT_PLACEMENT_HEALTH, s.ECOM_PORT_PLACEMENT_RAFT],
    healthy: () => httpHealthy(`http://127.0.0.1:${s.ECOM_PORT_PLACEMENT_HEALTH}/healthz`),
    startTimeoutMs: 20_000,
  };
}

function scheduler(s: StackSettings): ProcessSpec {
  const peerPort = s.ECOM_PORT_SCHEDULER_ETCD + 1;
  return {
    name: 'scheduler',
    command: bin.scheduler(),
    args: [
      '--port',
      String(s.ECOM_PORT_SCHEDULER),
      '--healthz-port',
      String(s.ECOM_PORT_SCHEDULER_HEALTH),
      '--enable-metrics=false',
      '--log-as-json',
      '--listen-address',
      '127.0.0.1',
      '--etcd-data-dir',
      path.join(dataDir, 'scheduler'),
      '--etcd-client-port',
      String(s.ECOM_PORT_SCHEDULER_ETCD),
      '--etcd-initial-cluster',
      `dapr-scheduler-server-0=http://127.0.0.1:${peerPort}`,
      '--override-broadcast-host-port',
      `127.0.0.1:${s.ECOM_PORT_SCHEDULER}`,
      ...mtlsArgs(s, 'control-plane'),
      // Where it writes the identity Sentry gave it (default: a shared folder under /tmp).
      '--identity-directory-write',
      path.join(runDir, 'scheduler-identity'),
    ],
    ports: [s.ECOM_PORT_SCHEDULER, s.ECOM_PORT_SCHEDULER_HEALTH, s.ECOM_PORT_SCHEDULER_ETCD, peerPort],
    healthy: () => httpHealthy(`http://127.0.0.1:${s.ECOM_PORT_SCHEDULER_HEALTH}/healthz`),
    startTimeoutMs: 60_000,
  };
}
