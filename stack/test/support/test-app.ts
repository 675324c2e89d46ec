import type { Server } from 'node:http';
import path from 'node:path';
import express, { type Express } from 'express';
import { DaprSidecar } from '@ecom/shared';
import { renderDaprResources } from '../../src/components';
import { sidecarSpec } from '../../src/sidecar';
import { localComponentValues, loadStackSettings } from '../../src/stack';
import { stateDir } from '../../src/settings';
import { startProcess, stopProcess } from '../../src/supervisor';
import { freePort } from './ports';

export interface TestApp {
  appId: string;
  sidecar: DaprSidecar;
  daprHttpPort: number;
  daprGrpcPort: number;
  stop(): Promise<void>;
}

/**
 * An app of the test's own, served in the jest process, with a real daprd
 * sidecar wired to the running stack (the project's dapr-components plus any
 * extra resources the test needs).
 */
export async function startTestApp(options: {
  appId: string;
  routes?: (app: Express) => void;
  extraResources?: string[];
  /** Start no app server (a sidecar for a gRPC-only client such as the workflow runtime). */
  withoutApp?: boolean;
  /** The workflows' state retention, instead of the stack's (a test that waits for a purge). */
  workflowRetention?: Parameters<typeof renderDaprResources>[3];
}): Promise<TestApp> {
  const s = loadStackSettings();
  let server: Server | undefined;
  let appPort: number | undefined;
  if (!options.withoutApp) {
    const app = express();
    app.use(express.json({ type: ['application/json', 'application/*+json'] }));
    app.get('/healthz', (_req, res) => res.json({ ok: true }));
    options.routes?.(app);
    const port = await freePort();
    appPort = port;
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(port, '127.0.0.1', () => {
        resolve(listening);
      });
    });
  }
  const [httpPort, grpcPort, internalGrpcPort] = [await freePort(), await freePort(), await freePort()];
  const dapr = renderDaprResources(
    path.join(stateDir, 'test-dapr', options.appId),
    localComponentValues(s),
    options.extraResources,
    options.workflowRetention,
  );
  const name = `test-${options.appId}-dapr`;
  await startProcess(
    sidecarSpec(s, {
      appId: options.appId,
      appPort,
      httpPort,
      grpcPort,
      internalGrpcPort,
      resourcesDir: dapr.resourcesDir,
      configFile: dapr.configFile,
      name,
      logLevel: 'info',
      actors: dapr.actorHosts.has(options.appId),
    }),
  );
  return {
    appId: options.appId,
    sidecar: new DaprSidecar('127.0.0.1', httpPort),
    daprHttpPort: httpPort,
    daprGrpcPort: grpcPort,
    stop: async () => {
      await stopProcess(name);
      await new Promise<void>((resolve) => {
        if (server)
          server.close(() => {
            resolve();
          });
        else resolve();
      });
    },
  };
}
