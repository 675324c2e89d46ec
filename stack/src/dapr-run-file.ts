import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import * as bin from './binaries';
import type { RenderedDaprResources } from './components';
import { appCommand, serviceEnv } from './services';
import { repoDir, servicePorts, stateDir, type ServiceId, type StackSettings } from './settings';

/** One app of a Dapr CLI multi-app run file. */
export interface RunFileApp {
  appId: string;
  appPort: number;
  httpPort: number;
  grpcPort: number;
  internalGrpcPort: number;
  command: string[];
  env: Record<string, string>;
}

/**
 * Lays out a Dapr "runtime path" for the CLI (`<dir>/.dapr/bin` holding the
 * daprd the stack built, `components` and `config.yaml` rendered from
 * dapr-components/) so `dapr run -f` uses these binaries without `dapr init`.
 */
export function daprRuntimeDir(dapr: RenderedDaprResources): string {
  const dir = path.join(stateDir, 'dapr-runtime');
  const dotDapr = path.join(dir, '.dapr');
  rmSync(dotDapr, { recursive: true, force: true });
  mkdirSync(dotDapr, { recursive: true });
  symlinkSync(bin.daprBinDir(), path.join(dotDapr, 'bin'));
  symlinkSync(dapr.resourcesDir, path.join(dotDapr, 'components'));
  symlinkSync(dapr.configFile, path.join(dotDapr, 'config.yaml'));
  return dir;
}

/** Writes a multi-app run file (`dapr run -f FILE`) for the given apps; returns its path. */
export function writeRunFile(
  s: StackSettings,
  dapr: RenderedDaprResources,
  apps: RunFileApp[],
  file: string,
): string {
  const doc = {
    version: 1,
    common: {
      runtimePath: daprRuntimeDir(dapr),
      resourcesPaths: [dapr.resourcesDir],
      configFilePath: dapr.configFile,
      placementHostAddress: `127.0.0.1:${s.ECOM_PORT_PLACEMENT}`,
      schedulerHostAddress: `127.0.0.1:${s.ECOM_PORT_SCHEDULER}`,
      logLevel: 'warn',
      appProtocol: 'http',
      daprdLogDestination: 'file',
      appLogDestination: 'file',
    },
    apps: apps.map((a) => ({
      appID: a.appId,
      appDirPath: repoDir,
      appPort: a.appPort,
      daprHTTPPort: a.httpPort,
      daprGRPCPort: a.grpcPort,
      daprInternalGRPCPort: a.internalGrpcPort,
      metricsPort: a.internalGrpcPort + 2000,
      command: a.command,
      env: a.env,
    })),
  };
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, YAML.stringify(doc));
  return file;
}

/** The run file for the services, with the same ports and environment `npm start` gives them. */
export function writeServicesRunFile(
  s: StackSettings,
  dapr: RenderedDaprResources,
  ids: ServiceId[],
): string {
  return writeRunFile(
    s,
    dapr,
    ids.map((id) => {
      const ports = servicePorts(id);
      return {
        appId: id,
        appPort: ports.app,
        httpPort: ports.daprHttp,
        grpcPort: ports.daprGrpc,
        internalGrpcPort: ports.daprInternalGrpc,
        command: appCommand(id),
        env: serviceEnv(s, id),
      };
    }),
    path.join(stateDir, 'dapr.yaml'),
  );
}
