import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { daprCli } from '../src/binaries';
import { writeRunFile } from '../src/dapr-run-file';
import { stateDir } from '../src/settings';
import { loadStackSettings, renderLocalDapr } from '../src/stack';
import { portInUse } from '../src/supervisor';
import { eventually } from './support/eventually';
import { freePort } from './support/ports';

// A tiny app for the CLI to launch: answers /hello with the port the CLI gave it.
const probeApp = `require('node:http').createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ path: req.url, appPort: process.env.APP_PORT }));
}).listen(Number(process.env.APP_PORT), '127.0.0.1');`;

describe('the Dapr CLI multi-app run with the binaries the stack built', () => {
  let cli: ChildProcess | undefined;

  afterAll(async () => {
    if (cli?.pid && cli.exitCode === null) {
      process.kill(-cli.pid, 'SIGKILL');
    }
  });

  it('starts each app with its daprd from a dapr.yaml run file, and stops them on Ctrl-C (SIGINT)', async () => {
    const s = loadStackSettings();
    const [appPort, httpPort, grpcPort, internalGrpcPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const file = writeRunFile(
      s,
      renderLocalDapr(s),
      [
        {
          appId: 'cli-probe',
          appPort,
          httpPort,
          grpcPort,
          internalGrpcPort,
          command: ['node', '-e', probeApp],
          env: {},
        },
      ],
      path.join(stateDir, 'test-dapr', 'cli-probe.yaml'),
    );
    cli = spawn(daprCli(), ['run', '-f', file], { detached: true, stdio: 'ignore' });

    const answer = await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${httpPort}/v1.0/invoke/cli-probe/method/hello`);
        return {
          status: response.status,
          body: (await response.json()) as { path: string; appPort: string },
        };
      },
      (r) => r.status === 200,
      { timeoutMs: 60_000, what: 'the app answering through its sidecar' },
    );
    expect(answer.body).toEqual({ path: '/hello', appPort: String(appPort) });

    const exited = new Promise((resolve) => cli?.once('exit', resolve));
    process.kill(-(cli.pid as number), 'SIGINT');
    await exited;
    await eventually(
      async () => (await portInUse(httpPort)) || (await portInUse(appPort)),
      (busy) => !busy,
      {
        timeoutMs: 20_000,
        what: 'sidecar and app stopped',
      },
    );
  });
});
