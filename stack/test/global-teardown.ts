import { down, loadStackSettings } from '../src/stack';

/** Stops the stack if the global setup started it (set ECOM_KEEP_STACK=1 to keep it for debugging). */
export default async function globalTeardown(): Promise<void> {
  if (process.env.ECOM_TEST_STARTED_STACK === '1' && process.env.ECOM_KEEP_STACK !== '1') {
    await down(loadStackSettings(), () => undefined);
  }
  // The global setup's exit hook has nothing left to do.
  process.env.ECOM_TEST_STACK_STOPPED = '1';
}
