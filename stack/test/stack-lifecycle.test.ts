import { execFile, spawn, type ExecFileException } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cliArgs, repoDir } from '../src/settings';
import { isAlive, portInUse } from '../src/supervisor';
import { eventually } from './support/eventually';

/**
 * A second, private stack (own state folder, ports shifted by 100, no
 * services) so that bringing it up and down does not disturb the stack the
 * other integration tests use.
 */
const ports = {
  ECOM_PORT_POSTGRES: 15532,
  ECOM_PORT_REDIS: 16479,
  ECOM_PORT_KAFKA: 19192,
  ECOM_PORT_KAFKA_CONTROLLER: 19193,
  ECOM_PORT_MONGO: 27127,
  ECOM_PORT_MONGO_DEBUG: 28188,
  ECOM_PORT_SMTP: 2625,
  ECOM_PORT_SMTP_API: 2626,
  ECOM_PORT_PLACEMENT: 20105,
  ECOM_PORT_SCHEDULER: 20106,
  ECOM_PORT_SCHEDULER_ETCD: 22479,
  ECOM_PORT_PLACEMENT_HEALTH: 28180,
  ECOM_PORT_PLACEMENT_RAFT: 28301,
  ECOM_PORT_SCHEDULER_HEALTH: 28181,
  ECOM_PORT_SENTRY: 15150,
  ECOM_PORT_SENTRY_HEALTH: 15151,
  ECOM_PORT_EDGE: 18180,
};

function privateEnv(stateDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    ECOM_STATE_DIR: stateDir,
    ECOM_STACK_SERVICES: 'none',
  };
}

function cli(stateDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = privateEnv(stateDir);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...cliArgs, ...args],
      { cwd: repoDir, env, timeout: 180_000 },
      (error: ExecFileException | null, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

function pidsOf(stateDir: string): number[] {
  const dir = path.join(stateDir, 'run');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => Number(readFileSync(path.join(dir, f), 'utf8').trim()));
}

describe('the stack CLI', () => {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'ecom-stack-'));
  // PostgreSQL runs as its own user, which must be able to reach its data folder.
  chmodSync(stateDir, 0o755);
  afterAll(async () => {
    await cli(stateDir, 'down');
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('reports every part healthy after up, and leaves no process behind after down', async () => {
    interface Report {
      healthy: boolean;
      components: { name: string; healthy: boolean; pid: number | null; port: number }[];
    }
    try {
      const up = await cli(stateDir, 'up');
      expect(up.stderr).not.toMatch(/error/);
      expect(up.code).toBe(0);

      // A health probe may time out once on a busy machine: the parts must report healthy within a deadline.
      const report = await eventually(
        async () => JSON.parse((await cli(stateDir, 'status', '--json')).stdout) as Report,
        (r) => r.healthy,
        { timeoutMs: 30_000, what: 'every part of the private stack healthy' },
      );
      expect(report.components.map((c) => c.name).sort()).toEqual([
        'kafka',
        'mongo',
        'placement',
        'postgres',
        'redis',
        'scheduler',
        'sentry',
        'smtp',
      ]);
      const pids = report.components.map((c) => c.pid as number);

      const down = await cli(stateDir, 'down');
      expect(down.code).toBe(0);
      expect(pids.filter((pid) => isAlive(pid))).toEqual([]);
      expect(pidsOf(stateDir)).toEqual([]);
      for (const port of Object.values(ports)) expect(await portInUse(port)).toBe(false);

      const after = await cli(stateDir, 'status', '--json');
      expect(after.code).toBe(1);
      expect((JSON.parse(after.stdout) as { healthy: boolean }).healthy).toBe(false);
    } finally {
      // A failure here must not leave the private stack for the next test to trip over.
      await cli(stateDir, 'down');
    }
  });

  it('refuses to start on a taken port with one line naming it, and leaves nothing running', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(ports.ECOM_PORT_KAFKA, '127.0.0.1', resolve));
    try {
      const up = await cli(stateDir, 'up');
      expect(up.code).toBe(1);
      const errorLines = up.stderr
        .trim()
        .split('\n')
        .filter((l) => l.includes('error'));
      expect(errorLines).toHaveLength(1);
      expect(errorLines[0]).toMatch(new RegExp(`port ${ports.ECOM_PORT_KAFKA} \\(kafka\\) is already taken`));
      expect(pidsOf(stateDir).filter((pid) => isAlive(pid))).toEqual([]);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('npm start in a terminal stops everything it started when the person types Ctrl-C', async () => {
    // `script` gives npm a real terminal; typing Ctrl-C there makes the terminal send SIGINT to the
    // whole foreground process group (npm, its shell, the CLI), as it does for a person.
    const terminal = spawn('script', ['-qfec', 'npm start', '/dev/null'], {
      cwd: repoDir,
      env: privateEnv(stateDir),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    terminal.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => terminal.once('exit', resolve));
    try {
      await eventually(
        () => Promise.resolve(output),
        (text) => text.includes('press Ctrl-C to stop everything'),
        { timeoutMs: 180_000, what: 'npm start ready' },
      );
      const started = pidsOf(stateDir).filter((pid) => isAlive(pid));
      expect(started.length).toBeGreaterThanOrEqual(8);

      terminal.stdin.write('\x03');
      await exited;
      await eventually(
        async () => ({
          alive: started.filter((pid) => isAlive(pid)),
          busy: (await Promise.all(Object.values(ports).map((port) => portInUse(port)))).some(Boolean),
        }),
        (left) => left.alive.length === 0 && !left.busy,
        { timeoutMs: 60_000, what: 'every process stopped and every port free after Ctrl-C' },
      );
      expect(output).toContain('stopped');
    } finally {
      if (terminal.exitCode === null) terminal.kill('SIGKILL');
    }
  });
});
