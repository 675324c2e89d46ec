/**
 * The local stack's command line: `up` (background), `down`, `status [--json]`,
 * and `start` (everything in the foreground until Ctrl-C). Failures print one
 * line saying what is wrong and how to fix it, and leave nothing half-started.
 */
import { spawn, spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import path from 'node:path';
import {
  down,
  newRun,
  renderLocalDapr,
  loadStackSettings,
  restartService,
  servicePorts,
  status,
  stopStarted,
  upInfrastructure,
  upServices,
  type StackRun,
} from './stack';
import { presentServices, presentServicesUnfiltered } from './services';
import { daprCli } from './binaries';
import { writeServicesRunFile } from './dapr-run-file';
import { repoDir, serviceIds, StackError, type ServiceId, type StackSettings } from './settings';

const progress = (line: string) => {
  process.stdout.write(`[stack] ${line}\n`);
};

function provision(): void {
  const result = spawnSync('bash', [path.join(repoDir, 'stack', 'provision', 'all.sh')], {
    stdio: 'inherit',
    env: { ...process.env, ECOM_SKIP_KUBE: '1' },
  });
  if (result.status !== 0)
    throw new StackError('provisioning failed (see the line above)', 'fix it and run again');
}

/**
 * Starts what is missing; whatever fails (or a Ctrl-C), it stops what this run started before
 * the error is reported.
 */
async function up(s: StackSettings, run: StackRun): Promise<void> {
  const started = Date.now();
  provision();
  try {
    await upInfrastructure(s, progress, run);
    await upServices(s, progress, run);
  } catch (error) {
    progress('start failed; stopping what this run started');
    await stopStarted(s, run, progress);
    throw error;
  }
  progress(`all healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Ctrl-C, SIGTERM and a closed terminal abort the run. The handlers stay installed until the
 * process ends: under `npm start` the CLI gets SIGINT more than once (from the terminal, then
 * relayed), and a second one must not cut the stopping short (tsx's preflight, for one, ends a
 * process that has no SIGINT listener left).
 */
function interruptOnSignals(): AbortController {
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!controller.signal.aborted) controller.abort(signal);
    });
  }
  // With the terminal gone, a progress line must not crash the stopping.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
  return controller;
}

/** Resolves with the signal's name once the run is interrupted; keeps the process alive until then. */
function untilInterrupted(signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    // Signal listeners alone do not keep Node's event loop alive: without a timer the process
    // would end right here, leaving everything running.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const done = () => {
      clearInterval(keepAlive);
      resolve(String(signal.reason));
    };
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}

function printEndpoints(s: StackSettings): void {
  const lines = [
    '',
    'ecom-micro is running. Call a service through its sidecar:',
    ...presentServices().map(
      (id) =>
        `  ${id.padEnd(13)} http://127.0.0.1:${servicePorts(id, s).daprHttp}/v1.0/invoke/${id}/method/healthz`,
    ),
    '',
    `  PostgreSQL    127.0.0.1:${s.ECOM_PORT_POSTGRES} (user ${s.ECOM_PG_USER})   Redis 127.0.0.1:${s.ECOM_PORT_REDIS}`,
    `  Kafka         127.0.0.1:${s.ECOM_PORT_KAFKA}   MongoDB protocol 127.0.0.1:${s.ECOM_PORT_MONGO}`,
    `  SMTP sink     127.0.0.1:${s.ECOM_PORT_SMTP} (messages: http://127.0.0.1:${s.ECOM_PORT_SMTP_API}/messages)`,
    `  Admin         ${s.ADMIN_EMAIL} / ${s.ADMIN_PASSWORD}`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

/**
 * Whether this process is the child that tsx's command line (`tsx cli.ts`, as `npm start` runs it)
 * started. That parent relays Ctrl-C to it and, when the child does not acknowledge it within 30 ms,
 * twice, kills it with SIGKILL: easily missed while the CLI spawns processes on two busy cores, and
 * the stack it started is then left running. (Its preflight module is preloaded with --require.)
 */
function underTsxCommandLine(): boolean {
  return process.execArgv.some((arg) => /tsx[/\\]dist[/\\]preflight/.test(arg));
}

/**
 * Runs the same command in a plain `node --import tsx` process, which tsx does not know of and so
 * never kills: it gets Ctrl-C from the terminal like every process of the foreground group, and
 * SIGTERM or SIGHUP from here. This process stays idle (so it acknowledges tsx's relays at once),
 * ends with the command's exit status, and never before the command has finished.
 */
async function runOutsideTsxCommandLine(args: string[]): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, ...args], {
    cwd: repoDir,
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    });
  }
  process.exitCode = await new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}

async function main(): Promise<void> {
  const [command, ...flags] = process.argv.slice(2);
  // The commands that start processes must never be cut short by Ctrl-C.
  if (underTsxCommandLine() && ['start', 'up', 'dapr-run'].includes(command ?? '')) {
    await runOutsideTsxCommandLine(process.argv.slice(2));
    return;
  }
  const s = loadStackSettings();
  switch (command) {
    case 'up': {
      await up(s, newRun(interruptOnSignals().signal));
      printEndpoints(s);
      return;
    }
    case 'restart': {
      const unknown = flags.filter((f) => !(serviceIds as readonly string[]).includes(f));
      if (flags.length === 0 || unknown.length > 0) {
        throw new StackError(
          `restart needs service names, got '${flags.join(' ')}'`,
          `use: restart ${serviceIds.join('|')} …`,
        );
      }
      for (const id of flags as ServiceId[]) await restartService(s, id, progress);
      return;
    }
    case 'dapr-run': {
      // Infrastructure from the stack, services through the Dapr CLI's multi-app run.
      process.env.ECOM_STACK_SERVICES = 'none';
      await up(s, newRun(interruptOnSignals().signal));
      const file = writeServicesRunFile(s, renderLocalDapr(s), presentServicesUnfiltered());
      progress(`dapr run -f ${file}`);
      const result = spawnSync(daprCli(), ['run', '-f', file], { stdio: 'inherit', cwd: repoDir });
      await down(s, progress);
      process.exitCode = result.status ?? 1;
      return;
    }
    case 'down':
      await down(s, progress);
      progress('stopped');
      return;
    case 'status': {
      const report = await status(s);
      if (flags.includes('--json')) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
      } else {
        for (const c of report.components) {
          progress(
            `${c.name.padEnd(20)} ${c.healthy ? 'healthy' : c.running ? 'UNHEALTHY' : 'stopped'}  port ${String(c.port ?? '-').padEnd(6)} pid ${c.pid ?? '-'}`,
          );
        }
      }
      process.exitCode = report.healthy ? 0 : 1;
      return;
    }
    case 'start': {
      const interrupt = interruptOnSignals();
      try {
        await up(s, newRun(interrupt.signal));
      } catch (error) {
        // Interrupted while starting: Ctrl-C stops it all, also parts an earlier run had started.
        if (interrupt.signal.aborted) await down(s, progress);
        throw error;
      }
      printEndpoints(s);
      progress('press Ctrl-C to stop everything');
      const reason = await untilInterrupted(interrupt.signal);
      progress(`${reason}: stopping everything`);
      await down(s, progress);
      progress('stopped');
      return;
    }
    default:
      throw new StackError(
        `unknown command '${command ?? ''}'`,
        'use one of: up, down, status [--json], restart <service…>, start, dapr-run',
      );
  }
}

main().catch((error: unknown) => {
  if (error instanceof StackError) {
    process.stderr.write(`[stack] error: ${error.message} — ${error.fix}\n`);
  } else {
    process.stderr.write(`[stack] error: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
