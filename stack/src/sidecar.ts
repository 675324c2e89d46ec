import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import * as bin from './binaries';
import { mtlsArgs, trustAnchorsFile } from './infrastructure';
import { httpHealthy } from './health';
import type { StackSettings } from './settings';
import type { ProcessSpec } from './supervisor';

export interface SidecarOptions {
  appId: string;
  appPort?: number;
  httpPort: number;
  grpcPort: number;
  internalGrpcPort: number;
  resourcesDir: string;
  configFile: string;
  /** Name of the process in the supervisor (default `<appId>-dapr`). */
  name?: string;
  logLevel?: string;
  /**
   * Whether the app hosts actors (Dapr Workflow is built on them): only then does the sidecar join
   * placement and open its job streams to the scheduler. Each joined sidecar reports to placement
   * every second and holds streams to the scheduler, for nothing, when its app hosts no actor.
   */
  actors: boolean;
}

/** Sentry's root certificate, which a sidecar trusts (empty until Sentry first started). */
function trustAnchors(): string {
  return existsSync(trustAnchorsFile) ? readFileSync(trustAnchorsFile, 'utf8') : '';
}

/** A daprd sidecar for one app, wired to the stack's placement and scheduler. */
export function sidecarSpec(s: StackSettings, o: SidecarOptions): ProcessSpec {
  const args = [
    '--app-id',
    o.appId,
    '--mode',
    'standalone',
    '--dapr-http-port',
    String(o.httpPort),
    '--dapr-grpc-port',
    String(o.grpcPort),
    '--dapr-internal-grpc-port',
    String(o.internalGrpcPort),
    '--dapr-listen-addresses',
    '127.0.0.1',
    '--dapr-internal-grpc-listen-address',
    '127.0.0.1',
    // mTLS between sidecars with identities from the stack's Sentry: access control checks them.
    ...mtlsArgs(s, 'sidecar'),
    '--enable-metrics=false',
    ...(o.actors
      ? [
          '--placement-host-address',
          `127.0.0.1:${s.ECOM_PORT_PLACEMENT}`,
          '--scheduler-host-address',
          `127.0.0.1:${s.ECOM_PORT_SCHEDULER}`,
        ]
      : []),
    '--resources-path',
    o.resourcesDir,
    '--config',
    o.configFile,
    '--log-as-json',
    '--log-level',
    o.logLevel ?? 'warn',
    '--dapr-graceful-shutdown-seconds',
    '3',
  ];
  if (o.appPort !== undefined)
    args.push(
      '--app-port',
      String(o.appPort),
      '--app-protocol',
      'http',
      '--app-channel-address',
      '127.0.0.1',
    );
  return {
    name: o.name ?? `${o.appId}-dapr`,
    command: bin.daprd(),
    args,
    cwd: path.dirname(o.resourcesDir),
    // DAPR_HOST_IP: the address the sidecar registers for name resolution (loopback, like its ports).
    env: { ...process.env, DAPR_TRUST_ANCHORS: trustAnchors(), DAPR_HOST_IP: '127.0.0.1' },
    ports: [o.httpPort, o.grpcPort, o.internalGrpcPort],
    healthy: () => httpHealthy(`http://127.0.0.1:${o.httpPort}/v1.0/healthz`, (status) => status === 204),
    startTimeoutMs: 60_000,
  };
}
