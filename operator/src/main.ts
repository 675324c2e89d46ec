import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { operatorController } from './controller/controller';
import { LeaderElector } from './controller/leader-election';
import { applyOwnCrd } from './controller/own-crd';
import type { Logger } from './controller/reconciler';
import { KubeClusterClient } from './kube/kube-cluster-client';

const USAGE = `Usage: ecom-operator [--kubeconfig PATH] [--namespace NS[,NS...]] [--no-leader-elect]
                    [--lease-namespace NS] [--health-port PORT] [--workers N]

Reconciles EcomStack resources in the watched namespaces (default: $WATCH_NAMESPACE,
else the kubeconfig context's namespace, else "default"). Without --kubeconfig it
uses $KUBECONFIG, ~/.kube/config or the in-cluster service account.`;

/** One JSON line per event on stdout: what log collectors in a cluster expect. */
const log: Logger = {
  info: (message, fields) => {
    process.stdout.write(
      `${JSON.stringify({ level: 'info', time: new Date().toISOString(), message, ...fields })}\n`,
    );
  },
  warn: (message, fields) => {
    process.stdout.write(
      `${JSON.stringify({ level: 'warn', time: new Date().toISOString(), message, ...fields })}\n`,
    );
  },
  error: (message, fields) => {
    process.stderr.write(
      `${JSON.stringify({ level: 'error', time: new Date().toISOString(), message, ...fields })}\n`,
    );
  },
};

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'no-leader-elect': { type: 'boolean', default: false },
      'lease-namespace': { type: 'string' },
      'health-port': { type: 'string', default: '8081' },
      workers: { type: 'string', default: '2' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const kc = new KubeConfig();
  if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
  else kc.loadFromDefault();
  const contextNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const namespaces = (values.namespace ?? process.env.WATCH_NAMESPACE ?? contextNamespace ?? 'default')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  const workers = Number(values.workers);
  const healthPort = Number(values['health-port']);
  if (namespaces.length === 0 || !Number.isInteger(workers) || workers < 1 || !Number.isInteger(healthPort)) {
    throw new Error(`bad arguments\n${USAGE}`);
  }

  const client = new KubeClusterClient(kc);
  const controller = operatorController(client, namespaces, log, { workers });

  let ready = false;
  const health = createServer((req, res) => {
    const ok = req.url === '/healthz' || (req.url === '/readyz' && ready);
    res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok' : 'not ready');
  });
  if (healthPort > 0) health.listen(healthPort);

  let elector: LeaderElector | undefined;
  const shutdown = (code: number) => {
    health.close();
    void controller
      .stop()
      .then(() => (code === 0 ? elector?.release() : elector?.stop()))
      .catch((error: unknown) => {
        log.warn('shutdown was not clean', { error: error instanceof Error ? error.message : String(error) });
      })
      .finally(() => process.exit(code));
  };
  process.once('SIGTERM', () => {
    shutdown(0);
  });
  process.once('SIGINT', () => {
    shutdown(0);
  });

  // Ready as a standby too, as controller-runtime's managers are: a rolling update of a
  // single-replica operator waits for the new pod's readiness while the old pod holds the Lease.
  ready = true;
  if (!values['no-leader-elect']) {
    const identity = `${hostname()}-${process.pid}`;
    elector = new LeaderElector(client, {
      namespace: values['lease-namespace'] ?? process.env.POD_NAMESPACE ?? namespaces[0] ?? 'default',
      name: 'ecom-operator',
      identity,
      leaseDurationSec: 15,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    log.info('waiting for leadership', { identity });
    await elector.run(() => {
      // Another replica may already act: stop at once, and let the restart campaign again.
      log.error('lost leadership; exiting');
      shutdown(1);
    });
    log.info('leading', { identity });
  }
  await applyOwnCrd(client, log);
  await controller.start();
  log.info('ecom-operator started', { namespaces });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  log.error('ecom-operator failed to start', {
    error: error instanceof Error ? error.message : String(error),
  });
  process.exit(1);
});
