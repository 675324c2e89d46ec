import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
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
  /** The signal that asks it to stop (default SIGTERM); SIGKILL follows after the grace period. */
  stopSignal?: NodeJS.Signals;
}

const pidFile = (name: string) => path.join(runDir, `${name}.pid`);
const killedFile = (name: string) => path.join(runDir, `${name}.killed`);
const specFile = (name: string) => path.join(runDir, `${name}.spec`);

/**
 * What a process is started as: command, arguments, ports, and the environment the stack adds
 * (hashed: it holds tokens). A running process started otherwise (other ports, say) is replaced.
 */
function fingerprint(spec: ProcessSpec): string {
  const added = Object.entries(spec.env ?? {})
    .filter(([key, value]) => process.env[key] !== value)
    .sort(([a], [b]) => a.localeCompare(b));
  const what = JSON.stringify({ command: spec.command, args: spec.args, ports: spec.ports, env: added });
  return createHash('sha256').update(what).digest('hex');
}

function startedAs(name: string): string | undefined {
  return existsSync(specFile(name)) ? readFileSync(specFile(name), 'utf8').trim() : undefined;
}
export const logFile = (name: string) => path.join(logDir, `${name}.log`);

export function readPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether the process exists and has not exited (a zombie awaiting its parent's wait() has). */
export function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  const state = procState(pid);
  if (state !== undefined) return state.running;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A process's state and group from /proc (undefined without /proc, or when the pid is gone). */
function procState(pid: number): { running: boolean; pgrp: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return existsSync('/proc/self/stat') ? { running: false, pgrp: 0 } : undefined;
  }
  // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
  const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { running: state !== 'Z' && state !== 'X', pgrp: Number(pgrp) };
}

/**
 * True while the process, or any process of the group it leads, runs. Orphans are reaped by
 * PID 1, which may take seconds: a zombie holds no port, so it does not count.
 */
function groupAlive(pgid: number): boolean {
  if (isAlive(pgid)) return true;
  if (!existsSync('/proc/self/stat')) {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const state = procState(Number(entry));
    if (state?.running && state.pgrp === pgid) return true;
  }
  return false;
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

/** Whether a listener can bind host:port now (undefined: the address family is not available). */
function bindable(port: number, host: string): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code === 'EAFNOSUPPORT' || error.code === 'EADDRNOTAVAIL' ? undefined : false);
    });
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/**
 * True when a server could listen on the port: nothing listens there on any address, and no
 * other socket (an outgoing connection, say) holds it. Probed by binding the wildcard address,
 * dual-stack where IPv6 exists, with SO_REUSEADDR as the stack's servers do, so a connection in
 * TIME_WAIT does not count as taken.
 */
export async function portFree(port: number): Promise<boolean> {
  return (await bindable(port, '::')) ?? (await bindable(port, '0.0.0.0')) === true;
}

/** The ports of the list that a server could not listen on now. */
export async function takenPorts(ports: readonly number[]): Promise<number[]> {
  const taken: number[] = [];
  for (const port of ports) if (!(await portFree(port))) taken.push(port);
  return taken;
}

/** Polls until every port is free; returns those still taken at the deadline. */
export async function waitForPortsFree(ports: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let taken = await takenPorts(ports);
  while (taken.length > 0 && Date.now() < deadline) {
    await delay(100);
    taken = await takenPorts(taken);
  }
  return taken;
}

function portTaken(name: string, port: number): StackError {
  return new StackError(
    `port ${port} (${name}) is already taken by another process`,
    `stop that process (ss -ltnp 'sport = :${port}') or choose another port through its ECOM_PORT_* variable`,
  );
}

/** Thrown when a start is interrupted (Ctrl-C, SIGTERM); whoever started the run stops what it started. */
export function interrupted(signal: AbortSignal): StackError {
  const reason: unknown = signal.reason;
  return new StackError(
    `interrupted by ${typeof reason === 'string' ? reason : 'a signal'}`,
    'stopped what this run had started',
  );
}

export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  isStillRunning: () => boolean = () => true,
  signal?: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (signal?.aborted) throw interrupted(signal);
    if (await probe().catch(() => false)) return;
    if (!isStillRunning()) throw new StackError(`${what} exited while starting`, `see its log`);
    await delay(250);
  }
  throw new StackError(
    `${what} did not become healthy within ${Math.round(timeoutMs / 1000)} s`,
    'see its log',
  );
}

export interface StartOptions {
  /** Aborted on Ctrl-C: a start in progress stops its process and fails. */
  signal?: AbortSignal;
  /** Receives the name of every process this call spawned (not of one it found running). */
  started?: string[];
  /** How long a predecessor's ports may take to come free after it has exited. */
  portWaitMs?: number;
}

/**
 * Starts a process detached in its own process group, with its output in
 * .stack/logs/<name>.log and its pid in .stack/run/<name>.pid, and waits until
 * it is healthy. A process of the stack already running, healthy and started
 * with the same command, arguments, ports and environment is kept.
 * A predecessor (running but unhealthy, or crashed with its pid file left) is
 * first stopped, and the start waits until it has exited and its ports are free.
 */
export async function startProcess(spec: ProcessSpec, options: StartOptions = {}): Promise<number> {
  const { signal } = options;
  mkdirSync(runDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const existing = readPid(spec.name);
  const reusable = !existsSync(killedFile(spec.name)) && startedAs(spec.name) === fingerprint(spec);
  if (reusable && isAlive(existing) && (await spec.healthy().catch(() => false))) return existing as number;
  if (existing !== undefined) {
    await stopProcess(spec.name, {
      ports: spec.ports,
      portWaitMs: options.portWaitMs,
      signal: spec.stopSignal,
    });
  }
  if (signal?.aborted) throw interrupted(signal);
  const [taken] = await takenPorts(spec.ports);
  if (taken !== undefined) throw portTaken(spec.name, taken);
  const log = openSync(logFile(spec.name), 'a');
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    detached: true,
    stdio: ['ignore', log, log],
    uid: spec.uid,
    gid: spec.gid,
  });
  closeSync(log);
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
  writeFileSync(specFile(spec.name), `${fingerprint(spec)}\n`);
  options.started?.push(spec.name);
  try {
    await waitFor(spec.name, spec.healthy, spec.startTimeoutMs ?? 60_000, () => isAlive(pid), signal);
  } catch (error) {
    await stopProcess(spec.name, { signal: spec.stopSignal });
    if (error instanceof StackError && !signal?.aborted)
      throw new StackError(error.message, `see ${logFile(spec.name)}`);
    throw error;
  }
  return pid;
}

export interface StopOptions {
  /** The signal that asks it to stop (default SIGTERM). */
  signal?: NodeJS.Signals;
  /** How long it may take before SIGKILL. */
  graceMs?: number;
  /** Ports the process listened on: once it has exited, wait until they are free. */
  ports?: readonly number[];
  portWaitMs?: number;
}

/**
 * Asks the process group to stop, then SIGKILL after the grace period; returns once the whole
 * group has exited and, when given, its ports are free again (or their deadline has passed: a port
 * some other process holds is then reported by the next start). After an unclean end (SIGKILL, a
 * crash) it also waits until the process is reaped: PostgreSQL, for one, will not start while the
 * pid in its lock file still exists, even as a zombie.
 */
export async function stopProcess(name: string, options: StopOptions = {}): Promise<void> {
  const { signal = 'SIGTERM', graceMs = 10_000, ports = [], portWaitMs = 15_000 } = options;
  const pid = readPid(name);
  if (pid !== undefined) {
    let clean = false;
    if (groupAlive(pid)) {
      signalGroup(pid, signal);
      clean = await waitForExit(pid, graceMs);
      if (!clean) {
        signalGroup(pid, 'SIGKILL');
        if (!(await waitForExit(pid, 10_000))) {
          throw new StackError(`${name} (pid ${pid}) did not exit after SIGKILL`, `see ps -o stat -p ${pid}`);
        }
      }
    }
    if (!clean) await waitForReaped(pid, 10_000);
    await waitForPortsFree(ports, portWaitMs);
  }
  rmSync(pidFile(name), { force: true });
  rmSync(killedFile(name), { force: true });
  rmSync(specFile(name), { force: true });
}

/** Polls until the pid is gone altogether, zombie included (orphans wait for PID 1 to reap them). */
async function waitForReaped(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return;
    }
    await delay(100);
  }
}

/** Polls until the process and every member of its group have exited; false at the deadline. */
async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(100);
  }
  return true;
}

/**
 * Kills a process at once (a crash, for fault tests); its pid file stays so status shows it down,
 * and a mark that the next start must replace it even if it still seems to answer (a socket can
 * accept connections for a moment after SIGKILL).
 */
export function killProcess(name: string): void {
  const pid = readPid(name);
  if (isAlive(pid)) {
    writeFileSync(killedFile(name), `${pid}\n`);
    signalGroup(pid as number, 'SIGKILL');
  }
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

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
