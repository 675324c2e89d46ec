import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { Client } from 'pg';
import Redis from 'ioredis';

/** Health probes of the stack's parts: each resolves true only when the part really serves. */

export async function postgresHealthy(port: number, user: string, database = 'postgres'): Promise<boolean> {
  const client = new Client({ host: '127.0.0.1', port, user, database, connectionTimeoutMillis: 1_000 });
  // A server that dies between the query and end() is emitted as 'error': the probe answers false.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function redisHealthy(port: number): Promise<boolean> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1_000,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

let kafkajsWarningDropped = false;

/**
 * kafkajs 2.2.4, its last release, starts its request queue's throttle at -1 ms and hands the
 * difference from now to setTimeout, so on Node 24 every process that talks to Kafka through it
 * printed a TimeoutNegativeWarning with a number like -1796524068376 (the delay becomes 1 ms, the
 * check kafkajs meant). That warning is dropped, once per process; every other warning is printed as
 * Node prints it.
 */
function dropKafkajsTimeoutWarning(): void {
  if (kafkajsWarningDropped) return;
  kafkajsWarningDropped = true;
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning' && warning.stack?.includes('kafkajs')) return;
    process.stderr.write(`(node:${process.pid}) ${warning.name}: ${warning.message}\n`);
  });
}

export function kafkaClient(port: number): Kafka {
  dropKafkajsTimeoutWarning();
  return new Kafka({
    clientId: 'ecom-stack',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    retry: { retries: 0 },
  });
}

export async function kafkaHealthy(port: number): Promise<boolean> {
  const admin = kafkaClient(port).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function mongoHealthy(port: number): Promise<boolean> {
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/`, {
    serverSelectionTimeoutMS: 1_000,
    directConnection: true,
  });
  try {
    await client.connect();
    const answer = await client.db('admin').command({ ping: 1 });
    return answer.ok === 1;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}

export async function httpHealthy(
  url: string,
  expect: (status: number) => boolean = (s) => s >= 200 && s < 300,
): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return expect(response.status);
  } catch {
    return false;
  }
}
