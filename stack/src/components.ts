import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { accessControlFor, daprFeatures, EDGE_APP_ID, workflowStateRetention } from '@ecom/shared';
import { repoDir, StackError, type ServiceId } from './settings';

export const componentsSourceDir = path.join(repoDir, 'dapr-components');

/**
 * Fills `${NAME}` placeholders of a dapr-components/ file. Dapr's own `{appID}`
 * tokens (no dollar sign) are left for the sidecar. A placeholder with no value
 * is an error, never an empty string.
 */
export function renderTemplate(text: string, values: Record<string, string>, source = 'template'): string {
  return text.replace(/\$\{([A-Z0-9_]+)\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined)
      throw new StackError(`${source} needs a value for \${${name}}`, 'add it to the stack settings');
    return value;
  });
}

/**
 * Writes a resource file only when its content changes, and then atomically (a temporary file
 * renamed over it). Running sidecars hot-reload their resources folder: a file truncated and
 * rewritten in place, even with the same content, briefly reads as empty, and daprd closes and
 * re-creates its components, failing the calls and outbox deliveries in flight.
 */
export function writeResource(file: string, text: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
}

export interface RenderedDaprResources {
  resourcesDir: string;
  /** The Configuration without access control (a test app's sidecar). */
  configFile: string;
  /** One app's Configuration: the shared one plus the app's access-control policy as the callee. */
  appConfigFile: (appId: ServiceId) => string;
  /**
   * The apps that host actors (Dapr Workflow runs on them): those in the scopes of an actor state
   * store. Only their sidecars need placement and the scheduler (`SidecarOptions.actors`).
   */
  actorHosts: ReadonlySet<string>;
}

/** The apps an actor state store among `docs` is scoped to. */
function actorHostsOf(docs: unknown[]): Set<string> {
  const hosts = new Set<string>();
  for (const doc of docs as { kind?: string; spec?: { metadata?: unknown }; scopes?: unknown }[]) {
    const metadata = Array.isArray(doc.spec?.metadata)
      ? (doc.spec.metadata as { name?: string; value?: unknown }[])
      : [];
    const isActorStore = metadata.some((m) => m.name === 'actorStateStore' && String(m.value) === 'true');
    if (doc.kind === 'Component' && isActorStore && Array.isArray(doc.scopes)) {
      for (const scope of doc.scopes) hosts.add(String(scope));
    }
  }
  return hosts;
}

/** Local sidecars' identities: Sentry's default trust domain, and the namespace of self-hosted mode. */
export const localIdentityScope = { trustDomain: 'public', namespace: 'default' } as const;

/** Whom an app answers: the edge nobody (it is reached on its own port), a service per who-may-call. */
export function accessControlOf(appId: ServiceId) {
  return appId === EDGE_APP_ID
    ? { defaultAction: 'deny', trustDomain: localIdentityScope.trustDomain, policies: [] }
    : accessControlFor(appId, localIdentityScope);
}

/**
 * Renders dapr-components/ for local sidecars: Components and Resiliency into a
 * resources folder, the Configuration into its own file with local-only name
 * resolution (SQLite: the loopback interface here has no multicast for mDNS) and the workflows'
 * state retention (`workflowStateRetention` unless a test passes a shorter one).
 */
export function renderDaprResources(
  outDir: string,
  values: Record<string, string>,
  extraResources: string[] = [],
  workflowRetention: Record<keyof typeof workflowStateRetention, string> = workflowStateRetention,
): RenderedDaprResources {
  const resourcesDir = path.join(outDir, 'resources');
  mkdirSync(resourcesDir, { recursive: true });
  let configFile = '';
  const resources: unknown[] = extraResources.map((text) => YAML.parse(text) as unknown);
  for (const file of readdirSync(componentsSourceDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const rendered = renderTemplate(
      readFileSync(path.join(componentsSourceDir, file), 'utf8'),
      values,
      `dapr-components/${file}`,
    );
    const doc = YAML.parse(rendered) as { kind?: string; spec?: Record<string, unknown> };
    if (doc.kind === 'Configuration') {
      doc.spec = {
        ...doc.spec,
        features: daprFeatures,
        workflow: { stateRetentionPolicy: workflowRetention },
        nameResolution: {
          component: 'sqlite',
          configuration: {
            connectionString: values.NAME_RESOLUTION_DB ?? path.join(outDir, 'name-resolution.db'),
          },
        },
      };
      configFile = path.join(outDir, 'config.yaml');
      writeResource(configFile, YAML.stringify(doc));
    } else {
      resources.push(doc);
      writeResource(path.join(resourcesDir, file), rendered);
    }
  }
  extraResources.forEach((text, i) => {
    writeResource(path.join(resourcesDir, `zz-extra-${i}.yaml`), text);
  });
  // Extra resources an earlier render wrote and this one no longer has.
  for (const stale of readdirSync(resourcesDir).filter((f) => /^zz-extra-\d+\.yaml$/.test(f))) {
    if (Number(/\d+/.exec(stale)?.[0]) >= extraResources.length) rmSync(path.join(resourcesDir, stale));
  }
  if (!configFile)
    throw new StackError(
      'dapr-components/ has no Configuration',
      'restore dapr-components/configuration.yaml',
    );
  const base = YAML.parse(readFileSync(configFile, 'utf8')) as { spec: Record<string, unknown> };
  const appConfigFile = (appId: ServiceId): string => {
    const file = path.join(outDir, `config-${appId}.yaml`);
    writeResource(
      file,
      YAML.stringify({ ...base, spec: { ...base.spec, accessControl: accessControlOf(appId) } }),
    );
    return file;
  };
  return { resourcesDir, configFile, appConfigFile, actorHosts: actorHostsOf(resources) };
}

/**
 * A state.postgresql v1 component of a probe app's own (the bench floor's, a test's) on the stack's
 * actor-state database (`values.ACTOR_STATE_CONNECTION_STRING`), in tables of its own: `<table>_state`
 * and `<table>_metadata` (migrations are tracked per metadata table, so each store needs its own),
 * scoped to `appId`. `metadata` adds component settings (actorStateStore, the outbox's, ...).
 */
export function pgStateComponent(
  values: Record<string, string>,
  options: { name: string; appId: string; table: string; metadata?: Record<string, string> },
): string {
  const connectionString = values.ACTOR_STATE_CONNECTION_STRING;
  if (connectionString === undefined)
    throw new StackError(
      `${options.name} needs ACTOR_STATE_CONNECTION_STRING`,
      'add it to the stack settings',
    );
  const settings = {
    connectionString,
    tableName: `${options.table}_state`,
    metadataTableName: `${options.table}_metadata`,
    ...options.metadata,
  };
  return YAML.stringify({
    apiVersion: 'dapr.io/v1alpha1',
    kind: 'Component',
    metadata: { name: options.name },
    spec: {
      type: 'state.postgresql',
      version: 'v1',
      metadata: Object.entries(settings).map(([name, value]) => ({ name, value })),
    },
    scopes: [options.appId],
  });
}
