import { clusterUp, runningCluster } from '../../stack/src/cluster';

/**
 * Starts the test control plane (etcd + kube-apiserver + kube-controller-manager)
 * once for the `cluster` jest project, or reuses one already running
 * (`npm run cluster:up`), which is then left running afterwards.
 */
export default async function globalSetup(): Promise<void> {
  const reused = (await runningCluster()) !== undefined;
  const info = await clusterUp((line) => {
    process.stderr.write(`[cluster] ${line}\n`);
  });
  process.env.ECOM_TEST_KUBECONFIG = info.kubeconfig;
  process.env.ECOM_TEST_CLUSTER_STARTED = reused ? '' : '1';
}
