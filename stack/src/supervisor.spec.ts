import { rmSync } from 'node:fs';
import net from 'node:net';
// First: the processes of this spec keep their pid files and logs in a folder of their own.
import { privateStateDir } from '../test/support/private-state-dir';
import { eventually } from '../test/support/eventually';
import * as sup from './supervisor';
import type { ProcessSpec } from './supervisor';

/**
 * The supervisor against real processes (small node servers): a restart waits until the old
 * process group has exited and its ports are free, whatever holds them, and a port an outgoing
 * connection holds counts as taken.
 */
jest.setTimeout(30_000);

afterAll(() => {
  rmSync(privateStateDir, { recursive: true, force: true });
});

/** A port the kernel hands out now (the test's own; the stack's defaults lie elsewhere). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/**
 * A leader that exits at once on SIGTERM, and a child in its process group that serves the port
 * and keeps it for `lingerMs` after SIGTERM (as daprd does during its graceful shutdown).
 */
function lingeringServer(name: string, port: number, lingerMs: number): ProcessSpec {
  const child = `require('node:net').createServer((c) => c.end()).listen(${port}, '127.0.0.1');
process.on('SIGTERM', () => setTimeout(() => process.exit(0), ${lingerMs}));`;
  const leader = `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(child)}], { stdio: 'inherit' });
process.on('SIGTERM', () => process.exit(0));
setInterval(() => undefined, 1000);`;
  return {
    name,
    command: process.execPath,
    args: ['-e', leader],
    ports: [port],
    healthy: () => sup.portInUse(port),
    startTimeoutMs: 10_000,
  };
}

function alive(pid: number): boolean {
  return sup.isAlive(pid);
}

describe('the supervisor', () => {
  it('restarts only after the old process group has exited and its port is free', async () => {
    const port = await freePort();
    const spec = lingeringServer('lingering', port, 1_500);
    const first = await sup.startProcess(spec);
    const started = Date.now();
    await sup.stopProcess(spec.name, { ports: spec.ports });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(await sup.portFree(port)).toBe(true);
    const second = await sup.startProcess(spec);
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    await sup.stopProcess(spec.name, { ports: spec.ports });
  });

  it('recovers a crashed process at once: the new start waits for the old one to be gone', async () => {
    const port = await freePort();
    const spec = lingeringServer('crashing', port, 0);
    const first = await sup.startProcess(spec);
    sup.killProcess(spec.name);
    const second = await sup.startProcess(spec);
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    expect(await sup.portInUse(port)).toBe(true);
    await sup.stopProcess(spec.name, { ports: spec.ports });
  });

  it('keeps a healthy process started the same way, and replaces one started with other settings', async () => {
    const port = await freePort();
    const first = await sup.startProcess(lingeringServer('reused', port, 0));
    expect(await sup.startProcess(lingeringServer('reused', port, 0))).toBe(first);
    const second = await sup.startProcess(lingeringServer('reused', port, 10));
    expect(second).not.toBe(first);
    expect(alive(first)).toBe(false);
    await sup.stopProcess('reused', { ports: [port] });
  });

  it('after a crash, waits while another process holds the port, and starts once it is given back', async () => {
    const port = await freePort();
    const spec = lingeringServer('contended', port, 0);
    const first = await sup.startProcess(spec);
    sup.killProcess(spec.name);
    await eventually(async () => !alive(first) && (await sup.portFree(port)), Boolean, { what: 'crashed' });
    // Someone else takes the port in the gap, and gives it back 700 ms later.
    const stranger = net.createServer();
    await new Promise<void>((resolve) => stranger.listen(port, '127.0.0.1', resolve));
    setTimeout(() => stranger.close(), 700);
    const started = Date.now();
    await sup.startProcess(spec);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    await sup.stopProcess(spec.name, { ports: spec.ports });
  });

  it('gives up at the deadline with one line naming the port when the port stays taken', async () => {
    const port = await freePort();
    const spec = lingeringServer('blocked', port, 0);
    const first = await sup.startProcess(spec);
    sup.killProcess(spec.name);
    await eventually(async () => !alive(first) && (await sup.portFree(port)), Boolean, { what: 'crashed' });
    const stranger = net.createServer();
    await new Promise<void>((resolve) => stranger.listen(port, '127.0.0.1', resolve));
    try {
      await expect(sup.startProcess(spec, { portWaitMs: 500 })).rejects.toThrow(
        `port ${port} (blocked) is already taken by another process`,
      );
    } finally {
      stranger.close();
    }
  });

  it('counts a port an outgoing connection holds as taken (a connect probe would call it free)', async () => {
    const server = net.createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1' });
    await new Promise((resolve) => client.once('connect', resolve));
    const held = client.localPort as number;
    try {
      expect(await sup.portInUse(held)).toBe(false);
      expect(await sup.portFree(held)).toBe(false);
      await expect(sup.startProcess(lingeringServer('outgoing', held, 0))).rejects.toThrow(
        `port ${held} (outgoing) is already taken`,
      );
    } finally {
      client.destroy();
      server.close();
    }
  });
});
