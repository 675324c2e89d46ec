import { down, loadStackSettings, upInfrastructure, upServices } from '../src/stack';
import { readPid, isAlive } from '../src/supervisor';

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
  try {
    await upInfrastructure(s, log);
    await upServices(s, log);
  } catch (error) {
    // A failed setup stops what it started, so the next run does not find its ports taken.
    if (!alreadyRunning) await down(s, log);
    throw error;
  }
}
