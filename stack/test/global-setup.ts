import { loadStackSettings, newRun, stopStarted, upInfrastructure, upServices } from '../src/stack';
import { StackError } from '../src/settings';
import { readPid, isAlive } from '../src/supervisor';

/**
 * Starts the real local stack once for the integration tests (infrastructure,
 * Dapr control plane, every present service with its sidecar). Parts already
 * running and healthy are reused, so a developer's `npm run stack:up` speeds
 * tests up; whatever this setup started, the teardown stops. When the setup
 * fails, jest runs no teardown: the setup then stops what it started itself
 * before it reports the failure, so no process is left behind.
 */
export default async function globalSetup(): Promise<void> {
  const s = loadStackSettings();
  const alreadyRunning = isAlive(readPid('kafka'));
  process.env.ECOM_TEST_STARTED_STACK = alreadyRunning ? '0' : '1';
  const log = (line: string) => {
    if (process.env.ECOM_TEST_VERBOSE === '1') process.stdout.write(`[stack] ${line}\n`);
  };
  const run = newRun();
  try {
    await upInfrastructure(s, log, run);
    await upServices(s, log, run);
  } catch (error) {
    await stopStarted(s, run, log);
    const what =
      error instanceof StackError
        ? `${error.message} — ${error.fix}`
        : error instanceof Error
          ? error.message
          : String(error);
    throw new Error(
      `[stack] error: ${what.split('\n')[0] ?? ''} (the test setup stopped the ${run.started.length} processes it had started)`,
    );
  }
}
