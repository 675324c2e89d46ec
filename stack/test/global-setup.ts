import { cliArgs, repoDir } from '../src/settings';
import { down, loadStackSettings, upInfrastructure, upServices } from '../src/stack';
import { readPid, isAlive, spawnDetached } from '../src/supervisor';

/**
 * Starts the real local stack once for the integration tests (infrastructure,
 * Dapr control plane, every present service with its sidecar). Parts already
 * running and healthy are reused, so a developer's `npm run stack:up` speeds
 * tests up; whatever this setup started, the teardown stops.
 */
export default async function globalSetup(): Promise<void> {
  const s = loadStackSettings();
  const alreadyRunning = isAlive(readPid('kafka'));
  process.env.ECOM_TEST_STARTED_STACK = alreadyRunning ? '0' : '1';
  const log = (line: string) => {
    if (process.env.ECOM_TEST_VERBOSE === '1') process.stdout.write(`[stack] ${line}\n`);
  };
  if (!alreadyRunning) stopOnExitWithoutTeardown();
  try {
    await upInfrastructure(s, log);
    await upServices(s, log);
  } catch (error) {
    // A failed setup stops what it started, so the next run does not find its ports taken.
    if (!alreadyRunning) await down(s, log);
    throw error;
  }
}

/**
 * When jest ends without running the teardowns (another project's global setup failed after this one
 * started the stack), stops the stack on the way out. An exit handler can only start work, so it
 * starts the CLI's `down` detached, to run on after jest is gone (its output in logs/test-exit-down.log).
 * It must not wait for it: every process of the stack is a child of this one, and one that `down` stops
 * stays a zombie while its parent is blocked, so `down` waited for the first of them until its time ran
 * out and left the infrastructure running. Once jest has exited they are init's, which reaps them.
 */
function stopOnExitWithoutTeardown(): void {
  process.once('exit', () => {
    if (process.env.ECOM_TEST_STACK_STOPPED === '1' || process.env.ECOM_KEEP_STACK === '1') return;
    spawnDetached('test-exit-down', process.execPath, [...cliArgs, 'down'], {
      cwd: repoDir,
      fresh: true,
    }).unref();
  });
}
