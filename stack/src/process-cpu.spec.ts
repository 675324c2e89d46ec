import { cpuMsPer, parseProcStat, treeTicks, type CpuReading, type ProcStat } from './process-cpu';

/** A stat line as the kernel writes it, with the fields the bench reads set and the rest zero. */
function statLine(pid: number, comm: string, ppid: number, [ut, st, cut, cst]: number[]): string {
  const fields = ['S', ppid, 1, 1, 0, -1, 4194304, 10, 0, 0, 0, ut, st, cut, cst, 20, 0, 1, 0, 123];
  return `${pid} (${comm}) ${fields.join(' ')}`;
}

describe('parseProcStat', () => {
  it('reads pid, ppid and user + system time of the process and its reaped children', () => {
    expect(parseProcStat(statLine(42, 'postgres', 7, [100, 20, 3, 4]))).toEqual({
      pid: 42,
      ppid: 7,
      ticks: 127,
    });
  });

  it('reads the fields after the last parenthesis, whatever the command name holds', () => {
    const line = statLine(9, 'we ird) (name) 1 2 3', 1, [5, 6, 0, 0]);
    expect(parseProcStat(line)).toEqual({ pid: 9, ppid: 1, ticks: 11 });
  });

  it('reads a real line of this process', () => {
    const line = `${process.pid} (node) R 1 ${'0 '.repeat(9)}250 50 0 0 20 0 12 0 99\n`;
    expect(parseProcStat(line)).toEqual({ pid: process.pid, ppid: 1, ticks: 300 });
  });

  it('refuses what is not a stat line', () => {
    expect(parseProcStat('')).toBeUndefined();
    expect(parseProcStat('12 (x) S 1 2')).toBeUndefined();
    expect(parseProcStat('abc (x) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0')).toBeUndefined();
  });
});

describe('treeTicks', () => {
  const stats: ProcStat[] = [
    { pid: 1, ppid: 0, ticks: 1_000 },
    { pid: 10, ppid: 1, ticks: 50 }, // postmaster
    { pid: 11, ppid: 10, ticks: 7 }, // a backend
    { pid: 12, ppid: 10, ticks: 3 },
    { pid: 13, ppid: 12, ticks: 1 }, // a grandchild
    { pid: 20, ppid: 1, ticks: 400 }, // another part of the stack
  ];

  it('sums a process and everything below it, and nothing beside it', () => {
    expect(treeTicks(stats, 10)).toBe(61);
    expect(treeTicks(stats, 20)).toBe(400);
  });

  it('has no figure for a process that is gone', () => {
    expect(treeTicks(stats, 99)).toBeUndefined();
  });

  it('counts each pid once even if parent links form a loop (a pid reused mid-read)', () => {
    const looped: ProcStat[] = [
      { pid: 5, ppid: 6, ticks: 2 },
      { pid: 6, ppid: 5, ticks: 3 },
    ];
    expect(treeTicks(looped, 5)).toBe(5);
  });
});

describe('cpuMsPer', () => {
  const at = (entries: [string, CpuReading][]) => new Map(entries);

  it('divides each process tree’s CPU over the window by the completed orders, in ms', () => {
    const before = at([
      ['postgres', { pid: 10, ticks: 1_000 }],
      ['order', { pid: 20, ticks: 500 }],
    ]);
    const after = at([
      ['postgres', { pid: 10, ticks: 1_400 }],
      ['order', { pid: 20, ticks: 600 }],
    ]);
    // 400 ticks at 100/s = 4,000 ms over 200 orders; 100 ticks = 1,000 ms.
    expect(cpuMsPer(before, after, 200, 100)).toEqual({
      perProcess: { postgres: 20, order: 5 },
      total: 25,
      unmeasured: [],
    });
  });

  it('leaves out a process that started, stopped or restarted during the window', () => {
    const before = at([
      ['kafka', { pid: 30, ticks: 10 }],
      ['redis', { pid: 40, ticks: 10 }],
    ]);
    const after = at([
      ['kafka', { pid: 31, ticks: 20 }],
      ['saga', { pid: 50, ticks: 20 }],
    ]);
    const result = cpuMsPer(before, after, 10, 100);
    expect(result.perProcess).toEqual({});
    expect(result.total).toBe(0);
    expect(result.unmeasured.sort()).toEqual(['kafka', 'redis', 'saga']);
  });

  it('has no per-order figure when no order completed', () => {
    const reading = at([['order', { pid: 1, ticks: 1 }]]);
    expect(cpuMsPer(reading, reading, 0, 100).unmeasured).toEqual(['order']);
  });
});
