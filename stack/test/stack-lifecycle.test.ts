import { execFile, spawn, type ExecFileException } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoDir } from '../src/settings';
import { isAlive, portInUse } from '../src/supervisor';
import { eventually } from './support/eventually';

/**
 * A second, private stack (own state folder, every port shifted by 100) so that bringing it up
 * and down does not disturb the stack the other integration tests use.
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
  ECOM_PORT_APP_BASE: 4100,
  ECOM_PORT_DAPR_HTTP_BASE: 3600,
  ECOM_PORT_DAPR_GRPC_BASE: 26100,
  ECOM_PORT_DAPR_INTERNAL_GRPC_BASE: 27100,
  ECOM_PORT_DAPR_METRICS_BASE: 29100,
};
/** The private auth sidecar's gRPC port (base + auth's index 1). */
const authSidecarGrpc = ports.ECOM_PORT_DAPR_GRPC_BASE + 1;

const stateDir = mkdtempSync(path.join(tmpdir(), 'ecom-stack-'));
// PostgreSQL runs as its own user, which must be able to reach its data folder.
chmodSync(stateDir, 0o755);

function privateEnv(services: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
    ECOM_STATE_DIR: stateDir,
    ECOM_STACK_SERVICES: services,
  };
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], services: string): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: repoDir, env: privateEnv(services), timeout: 180_000 },
      (error: ExecFileException | null, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

function cli(services: string, ...args: string[]): Promise<Outcome> {
  return run(['--import', 'tsx', path.join(repoDir, 'stack', 'src', 'cli.ts'), ...args], services);
}

/** Jest's global setup, run as jest runs it (no teardown follows a failed setup). */
function globalSetup(services: string): Promise<Outcome> {
  const script = `import(${JSON.stringify(path.join(repoDir, 'stack', 'test', 'global-setup.ts'))})
  .then((m) => (typeof m.default === 'function' ? m.default : m.default.default)())
  .then(() => process.exit(0), (e) => { process.stderr.write(e.message + '\\n'); process.exit(1); });`;
  return run(['--import', 'tsx', '-e', script], services);
}

function pidsOf(dir: string): number[] {
  const run = path.join(dir, 'run');
  if (!existsSync(run)) return [];
  return readdirSync(run)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => Number(readFileSync(path.join(run, f), 'utf8').trim()));
}

/**
 * Every process of the private stack, found by its environment (each inherits ECOM_STATE_DIR):
 * infrastructure, apps, sidecars, and the CLI with npm and tsx above it. Zombies do not count.
 */
function processesOfPrivateStack(): { pid: number; command: string }[] {
  const mark = `ECOM_STATE_DIR=${stateDir}\0`;
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (!readFileSync(`/proc/${entry}/environ`, 'latin1').includes(mark)) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').slice(0, 120);
      found.push({ pid: Number(entry), command });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function expectNoProcessLeft(): Promise<void> {
  await eventually(
    async () => processesOfPrivateStack(),
    (left) => left.length === 0,
    {
      timeoutMs: 30_000,
      what: 'no process of the private stack left',
    },
  );
  expect(pidsOf(stateDir).filter((pid) => isAlive(pid))).toEqual([]);
}

/** Holds a port the way another program would, until released. */
async function occupy(port: number): Promise<() => Promise<void>> {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  return () =>
    new Promise<void>((resolve) =>
      blocker.close(() => {
        resolve();
      }),
    );
}

function errorLines(stderr: string): string[] {
  return stderr
    .trim()
    .split('\n')
    .filter((l) => l.includes('error'));
}

afterAll(async () => {
  await cli('auth', 'down');
  rmSync(stateDir, { recursive: true, force: true });
});

describe('the stack CLI', () => {
  it('reports every part healthy after up, and leaves no process behind after down', async () => {
    const up = await cli('none', 'up');
    expect(up.stderr).not.toMatch(/error/);
    expect(up.code).toBe(0);

    const status = await cli('none', 'status', '--json');
    const report = JSON.parse(status.stdout) as {
      healthy: boolean;
      components: { name: string; healthy: boolean; pid: number | null; port: number }[];
    };
    expect(report.components.map((c) => c.name).sort()).toEqual([
      'kafka',
      'mongo',
      'placement',
      'postgres',
      'redis',
      'scheduler',
      'smtp',
    ]);
    expect(report.components.filter((c) => !c.healthy)).toEqual([]);
    expect(report.healthy).toBe(true);
    const pids = report.components.map((c) => c.pid as number);

    const down = await cli('none', 'down');
    expect(down.code).toBe(0);
    expect(pids.filter((pid) => isAlive(pid))).toEqual([]);
    expect(pidsOf(stateDir)).toEqual([]);
    expect(processesOfPrivateStack()).toEqual([]);
    for (const port of Object.values(ports)) expect(await portInUse(port)).toBe(false);

    const after = await cli('none', 'status', '--json');
    expect(after.code).toBe(1);
    expect((JSON.parse(after.stdout) as { healthy: boolean }).healthy).toBe(false);
  });

  it('refuses to start on a taken port with one line naming it, and leaves nothing running', async () => {
    const release = await occupy(ports.ECOM_PORT_KAFKA);
    try {
      const up = await cli('none', 'up');
      expect(up.code).toBe(1);
      expect(errorLines(up.stderr)).toHaveLength(1);
      expect(errorLines(up.stderr)[0]).toMatch(
        new RegExp(`port ${ports.ECOM_PORT_KAFKA} \\(kafka\\) is already taken`),
      );
      await expectNoProcessLeft();
    } finally {
      await release();
    }
  });

  it.each([
    ['`stack up`', () => cli('auth', 'up')],
    ["the tests' global setup", () => globalSetup('auth')],
  ])(
    '%s stops everything it started when a sidecar cannot bind its port (infrastructure, the app)',
    async (_what, start) => {
      const release = await occupy(authSidecarGrpc);
      try {
        const outcome = await start();
        expect(outcome.code).toBe(1);
        expect(errorLines(outcome.stderr)).toHaveLength(1);
        expect(errorLines(outcome.stderr)[0]).toMatch(
          new RegExp(`port ${authSidecarGrpc} \\(auth-dapr\\) is already taken`),
        );
        // It got as far as the app: infrastructure and the auth app were running, and are gone.
        expect(outcome.stdout + outcome.stderr).not.toMatch(/could not be stopped/);
        await expectNoProcessLeft();
      } finally {
        await release();
      }
    },
  );
});

describe('`npm start` in a terminal', () => {
  afterEach(async () => {
    if (processesOfPrivateStack().length > 0) await cli('auth', 'down');
  });

  /** `npm start` on a pseudo-terminal, as a person runs it; `ctrlC` types Ctrl-C into it. */
  function npmStartInTerminal() {
    // script(1) gives the command a pty as its controlling terminal: npm, tsx and the CLI are
    // its foreground process group, and ^C typed into it reaches all of them as SIGINT.
    const terminal = spawn('script', ['-qfec', 'npm start', '/dev/null'], {
      cwd: repoDir,
      env: privateEnv('auth'),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    terminal.stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    terminal.stderr.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    return {
      screen: () => screen,
      ctrlC: () => terminal.stdin.write('\x03'),
      /** The terminal's exit status once npm has returned (the prompt is back). */
      exited: () =>
        eventually(
          async () => terminal.exitCode,
          (code) => code !== null,
          {
            timeoutMs: 60_000,
            what: 'npm start returning to the prompt',
          },
        ),
      /** Ends the terminal; on a failure, shows what it displayed. */
      close: (failure?: unknown) => {
        if (terminal.exitCode === null) terminal.kill('SIGKILL');
        if (failure instanceof Error) failure.message += `\n--- the terminal showed:\n${screen.slice(-4000)}`;
      },
    };
  }

  it('stops everything on Ctrl-C once it is running: npm, the CLI and all it started', async () => {
    const term = npmStartInTerminal();
    try {
      await eventually(
        async () => term.screen(),
        (s) => s.includes('press Ctrl-C to stop everything'),
        {
          timeoutMs: 150_000,
          what: `"press Ctrl-C" on the terminal`,
        },
      );
      const running = processesOfPrivateStack();
      // 7 infrastructure parts, the auth app and its sidecar, and npm, tsx and the CLI above them.
      expect(running.length).toBeGreaterThanOrEqual(12);
      expect(running.map((p) => p.command).join('\n')).toMatch(/daprd --app-id auth/);

      const pressed = Date.now();
      term.ctrlC();
      const status = await term.exited();
      const promptBackInMs = Date.now() - pressed;
      // The prompt comes back only once everything has stopped. npm reports the Ctrl-C as 130.
      expect(processesOfPrivateStack()).toEqual([]);
      expect([0, 130]).toContain(status);
      expect(term.screen()).toMatch(/SIGINT: stopping everything[\s\S]*\[stack\] stopped/);
      await expectNoProcessLeft();
      process.stdout.write(`[lifecycle] Ctrl-C to the prompt, nothing left: ${promptBackInMs} ms\n`);
      term.close();
    } catch (error) {
      term.close(error);
      throw error;
    }
  });

  it('stops what it had started on Ctrl-C while still starting', async () => {
    const term = npmStartInTerminal();
    try {
      await eventually(
        async () => term.screen(),
        (s) => /postgres +healthy/.test(s),
        {
          timeoutMs: 120_000,
          what: 'PostgreSQL started',
        },
      );
      term.ctrlC();
      expect(await term.exited()).not.toBe(0);
      expect(processesOfPrivateStack()).toEqual([]);
      await expectNoProcessLeft();
      expect(term.screen()).toMatch(/interrupted by SIGINT/);
      term.close();
    } catch (error) {
      term.close(error);
      throw error;
    }
  });
});
