import { clusterDown } from '../../stack/src/cluster';

/** Stops the control plane only if global-setup started it. */
export default async function globalTeardown(): Promise<void> {
  if (process.env.ECOM_TEST_CLUSTER_STARTED === '1' && process.env.ECOM_KEEP_CLUSTER !== '1')
    await clusterDown();
}
