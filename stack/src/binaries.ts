import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { cacheDir, readVersions, StackError } from './settings';

const versions = readVersions();

function required(file: string, what: string): string {
  if (!existsSync(file))
    throw new StackError(`${what} is not provisioned (${file} is missing)`, 'run `npm run provision`');
  return file;
}

function version(key: string): string {
  const value = versions[key];
  if (!value) throw new StackError(`stack/versions.env has no ${key}`, 'restore it from git');
  return value;
}

/** Dapr binaries: ~/.dapr/bin when it has them, else the ones provision built. */
export function daprBinDir(): string {
  const userBin = path.join(homedir(), '.dapr', 'bin');
  if (existsSync(path.join(userBin, 'daprd')) && existsSync(path.join(userBin, 'sentry'))) return userBin;
  const flavour = process.env.ECOM_DAPR_ALLCOMPONENTS === '1' ? 'all' : 'slim';
  return path.dirname(
    required(path.join(cacheDir, `dapr-${version('DAPR_VERSION')}-${flavour}`, 'bin', 'daprd'), 'daprd'),
  );
}

/**
 * The Node the services run on: NODE_VERSION from the npm registry (stack/provision/node.sh), the
 * same build as in their images; the CLI, the tests and the bench run on the machine's own Node.
 */
export const serviceNode = () =>
  required(
    path.join(cacheDir, `node-${version('NODE_VERSION')}`, 'bin', 'node'),
    `Node ${version('NODE_VERSION')}`,
  );

export const daprd = () => path.join(daprBinDir(), 'daprd');
export const placement = () => required(path.join(daprBinDir(), 'placement'), 'Dapr placement');
export const scheduler = () => required(path.join(daprBinDir(), 'scheduler'), 'Dapr scheduler');
export const sentry = () => required(path.join(daprBinDir(), 'sentry'), 'Dapr sentry');

export function daprCli(): string {
  const userCli = path.join(homedir(), '.dapr', 'bin', 'dapr');
  if (existsSync(userCli)) return userCli;
  return required(
    path.join(cacheDir, `dapr-cli-${version('DAPR_CLI_VERSION')}`, 'bin', 'dapr'),
    'the Dapr CLI',
  );
}

/** The PostgreSQL server's bin directory, as provision found it. */
export function postgresBinDir(): string {
  const file = required(path.join(cacheDir, 'postgres.bindir'), 'PostgreSQL');
  return readFileSync(file, 'utf8').trim();
}

export function kafkaLibs(): string {
  const dir = path.join(cacheDir, `kafka-${version('KAFKA_VERSION')}`, 'libs');
  required(path.join(dir, '.complete'), 'Kafka');
  return dir;
}

/** A real mongod on PATH wins over FerretDB. */
export function mongoServer(): { kind: 'mongod' | 'ferretdb'; path: string } {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'mongod');
    if (dir && existsSync(candidate)) return { kind: 'mongod', path: candidate };
  }
  return {
    kind: 'ferretdb',
    path: required(
      path.join(cacheDir, `ferretdb-${version('FERRETDB_VERSION')}`, 'bin', 'ferretdb'),
      'FerretDB',
    ),
  };
}

/** kubectl v<KUBERNETES_VERSION>, built from Go modules for the kind cluster (stack/provision/kind.sh). */
export const kubectl = () =>
  required(path.join(cacheDir, `kube-${version('KUBERNETES_VERSION')}`, 'bin', 'kubectl'), 'kubectl');
