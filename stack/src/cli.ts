/**
 * The local stack's command line: `up` (background), `down`, `status [--json]`,
 * and `start` (everything in the foreground until Ctrl-C). Failures print one
 * line saying what is wrong and how to fix it, and leave nothing half-started.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  down,
  renderLocalDapr,
  loadStackSettings,
  restartService,
  status,
  upInfrastructure,
  upServices,
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
 * Resolves on the first Ctrl-C, SIGTERM or closed terminal. The listeners stay installed afterwards:
 * in a terminal the CLI gets SIGINT twice (from the terminal, then relayed by npm), and with no
 * listener left the second would end the process before it has stopped the stack.
 */
function untilStopRequested(): Promise<void> {
  return new Promise((resolve) => {
    // Signal listeners alone do not keep Node's event loop alive.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.on(signal, () => {
        clearInterval(keepAlive);
        resolve();
      });
    }
    // With the terminal gone, a progress line must not end the stopping.
    process.stdout.on('error', () => undefined);
    process.stderr.on('error', () => undefined);
  });
}

async function up(s: StackSettings): Promise<void> {
  const started = Date.now();
  provision();
  try {
    await upInfrastructure(s, progress);
    await upServices(s, progress);
  } catch (error) {
    progress('start failed; stopping what was started');
    await down(s, () => undefined);
    throw error;
  }
  progress(`all healthy in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function printEndpoints(s: StackSettings): void {
  const lines = [
    '',
    `ecom-micro is running. Clients call the public edge (port ${s.ECOM_PORT_EDGE}, public routes only):`,
    ...presentServices()
      .filter((id) => id !== 'edge')
      .map(
        (id) => `  ${id.padEnd(13)} http://127.0.0.1:${s.ECOM_PORT_EDGE}/v1.0/invoke/${id}/method/healthz`,
      ),
    '  (service sidecars answer their own app only: Dapr API tokens, mTLS identities, access control)',
    '',
    `  PostgreSQL    127.0.0.1:${s.ECOM_PORT_POSTGRES} (user ${s.ECOM_PG_USER})   Redis 127.0.0.1:${s.ECOM_PORT_REDIS}`,
    `  Kafka         127.0.0.1:${s.ECOM_PORT_KAFKA}   MongoDB protocol 127.0.0.1:${s.ECOM_PORT_MONGO}`,
    `  SMTP sink     127.0.0.1:${s.ECOM_PORT_SMTP} (messages: http://127.0.0.1:${s.ECOM_PORT_SMTP_API}/messages)`,
    `  Admin         ${s.ADMIN_EMAIL} / ${s.ADMIN_PASSWORD}`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

async function main(): Promise<void> {
  const [command, ...flags] = process.argv.slice(2);
  const s = loadStackSettings();
  switch (command) {
    case 'up':
      await up(s);
      printEndpoints(s);
      return;
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
      await up(s);
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
      await up(s);
      printEndpoints(s);
      progress('press Ctrl-C to stop everything');
      await untilStopRequested();
      progress('stopping everything');
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
