import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** What the bench needs from one line of /proc/<pid>/stat. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /**
   * CPU in clock ticks: its own user and system time (fields 14, 15) plus that of the children it
   * has waited for (16, 17). With the latter, a PostgreSQL backend that exits inside the measured
   * window still counts (its time moves into the postmaster's), and a tree's total never drops.
   */
  ticks: number;
}

/**
 * Parses a /proc/<pid>/stat line. The command name (field 2) sits in parentheses and may itself
 * contain spaces and parentheses, so the fields are read after the last `)`.
 */
export function parseProcStat(line: string): ProcStat | undefined {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(line.slice(0, open).trim());
  // After the name: state (field 3), ppid (4), ..., utime (14), stime (15), cutime (16), cstime (17).
  const rest = line
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const field = (n: number) => Number(rest[n - 3]);
  const values = [field(4), field(14), field(15), field(16), field(17)];
  if (!Number.isInteger(pid) || values.some((v) => !Number.isInteger(v))) return undefined;
  const [ppid = 0, utime = 0, stime = 0, cutime = 0, cstime = 0] = values;
  return { pid, ppid, ticks: utime + stime + cutime + cstime };
}

/** The CPU ticks of `root` and every process below it (PostgreSQL's backends, a wrapper's child). */
export function treeTicks(stats: readonly ProcStat[], root: number): number | undefined {
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  if (!byPid.has(root)) return undefined;
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  let total = 0;
  const pending = [root];
  const seen = new Set<number>();
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    // A pid read twice (reused between two reads of /proc) must not loop or count twice.
    if (seen.has(pid)) continue;
    seen.add(pid);
    total += byPid.get(pid)?.ticks ?? 0;
    pending.push(...(children.get(pid) ?? []).map((c) => c.pid));
  }
  return total;
}

/** A named process's tree CPU at one instant; the pid tells a restart apart from the same process. */
export interface CpuReading {
  pid: number;
  ticks: number;
}

/** CPU ms of each named process per unit of work (an order, a second), and their sum. */
export interface CpuShare {
  perProcess: Record<string, number>;
  total: number;
  unmeasured: string[];
}

/**
 * CPU milliseconds per unit (a completed order, or a second of an idle window) of each named process
 * between two readings, and their sum. A process missing from either reading, or restarted in between
 * (another pid), has no figure: its delta would mix two processes.
 */
export function cpuMsPer(
  before: ReadonlyMap<string, CpuReading>,
  after: ReadonlyMap<string, CpuReading>,
  units: number,
  ticksPerSecond: number,
): CpuShare {
  const perProcess: Record<string, number> = {};
  const unmeasured: string[] = [];
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const then = before.get(name);
    const now = after.get(name);
    if (!then || !now || then.pid !== now.pid || units <= 0) {
      unmeasured.push(name);
      continue;
    }
    perProcess[name] = ((now.ticks - then.ticks) * 1000) / ticksPerSecond / units;
  }
  const total = Object.values(perProcess).reduce((sum, ms) => sum + ms, 0);
  return { perProcess, total, unmeasured };
}

/** Every process's stat line; a process that ends while /proc is read is skipped. */
export function readAllProcStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseProcStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (stat) stats.push(stat);
    } catch {
      // gone between readdir and read
    }
  }
  return stats;
}

/** The tree CPU of each named root pid, read from /proc in one pass. */
export function readTreeCpu(roots: ReadonlyMap<string, number>): Map<string, CpuReading> {
  const stats = readAllProcStats();
  const readings = new Map<string, CpuReading>();
  for (const [name, pid] of roots) {
    const ticks = treeTicks(stats, pid);
    if (ticks !== undefined) readings.set(name, { pid, ticks });
  }
  return readings;
}

/** The kernel's clock ticks per second (USER_HZ); 100 on every common Linux build if getconf is missing. */
export function clockTicksPerSecond(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}
