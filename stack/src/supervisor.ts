import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { logDir, runDir, StackError } from './settings';

/** One long-running process of the stack. */
export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (PostgreSQL refuses to run as root). */
  uid?: number;
  gid?: number;
  /** Ports the process listens on; checked free before it starts. */
  ports: number[];
  /** Resolves true once the process serves requests. */
  healthy: () => Promise<boolean>;
  /** How long it may take to become healthy. */
  startTimeoutMs?: number;
  /** Writes what the process reads at start (its config file), just before it is spawned. */
  prepare?: () => void;
}

const pidFile = (name: string) => path.join(runDir, `${name}.pid`);
export const logFile = (name: string) => path.join(logDir, `${name}.log`);

export function readPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when something accepts connections on 127.0.0.1:port. */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  isStillRunning: () => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    if (!isStillRunning()) throw new StackError(`${what} exited while starting`, `see its log`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new StackError(
    `${what} did not become healthy within ${Math.round(timeoutMs / 1000)} s`,
    'see its log',
  );
}

/**
 * Starts a process detached in its own process group, with its output in
 * .stack/logs/<name>.log and its pid in .stack/run/<name>.pid, and waits until
 * it is healthy. A process of the stack already running and healthy is kept.
 */
/** Whether the live process `pid` answers healthy before `ms` pass (false as soon as it dies). */
async function healthyWithin(spec: ProcessSpec, pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (await spec.healthy().catch(() => false)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

/**
 * Starts a command detached from this process (it outlives it), its output in logs/<name>.log:
 * appended, or written anew with `fresh`. This process keeps no copy of the log's descriptor.
 */
export function spawnDetached(
  name: string,
  command: string,
  args: readonly string[],
  options: Pick<ProcessSpec, 'cwd' | 'env' | 'uid' | 'gid'> & { fresh?: boolean } = {},
): ChildProcess {
  mkdirSync(logDir, { recursive: true });
  const log = openSync(logFile(name), options.fresh ? 'w' : 'a');
  try {
    return spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
      uid: options.uid,
      gid: options.gid,
    });
  } finally {
    closeSync(log);
  }
}

export async function startProcess(spec: ProcessSpec): Promise<number> {
  mkdirSync(runDir, { recursive: true });
  const existing = readPid(spec.name);
  if (isAlive(existing)) {
    // One probe may time out on a busy machine, and a process may still be starting: give a live one
    // a few seconds to answer rather than replacing it (replacing a Dapr sidecar disturbs its workflows).
    if (await healthyWithin(spec, existing as number, 10_000)) return existing as number;
    await stopProcess(spec.name);
  }
  for (const port of spec.ports) {
    if (await portInUse(port)) {
      throw new StackError(
        `port ${port} (${spec.name}) is already taken by another process`,
        `stop that process (ss -ltnp 'sport = :${port}') or choose another port through its ECOM_PORT_* variable`,
      );
    }
  }
  spec.prepare?.();
  const child = spawnDetached(spec.name, spec.command, spec.args, spec);
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => {
      resolve(child.pid as number);
    });
    child.once('error', (error) => {
      reject(new StackError(`cannot start ${spec.name}: ${error.message}`, 'run `npm run provision`'));
    });
  });
  child.unref();
  writeFileSync(pidFile(spec.name), `${pid}\n`);
  try {
    await waitFor(spec.name, spec.healthy, spec.startTimeoutMs ?? 60_000, () => isAlive(pid));
  } catch (error) {
    await stopProcess(spec.name);
    if (error instanceof StackError) throw new StackError(error.message, `see ${logFile(spec.name)}`);
    throw error;
  }
  return pid;
}

/** SIGTERM to the process group, then SIGKILL after the grace period. */
export async function stopProcess(name: string, graceMs = 10_000): Promise<void> {
  const pid = readPid(name);
  if (isAlive(pid)) {
    signalGroup(pid as number, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isAlive(pid)) signalGroup(pid as number, 'SIGKILL');
    while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
  rmSync(pidFile(name), { force: true });
}

/**
 * Stops a process without ending it (SIGSTOP), or lets it go on (SIGCONT): for fault tests, a
 * process that hangs, holding its connections open and answering nothing.
 */
export function freezeProcess(name: string, frozen: boolean): void {
  const pid = readPid(name);
  if (isAlive(pid)) signalGroup(pid as number, frozen ? 'SIGSTOP' : 'SIGCONT');
}

/** Kills a process at once (a crash, for fault tests); its pid file stays so status shows it down. */
export function killProcess(name: string): void {
  const pid = readPid(name);
  if (isAlive(pid)) signalGroup(pid as number, 'SIGKILL');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
