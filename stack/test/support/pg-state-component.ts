import { localComponentValues, loadStackSettings } from '../../src/stack';

/**
 * A state.postgresql v1 component of a probe app's own, on the stack's actor-state database: its own
 * table and metadata table (migrations are tracked per metadata table, so each store needs its own),
 * scoped to `appId`. `metadata` adds component settings (actorStateStore, the outbox's, ...).
 */
export function pgStateComponent(options: {
  name: string;
  appId: string;
  table: string;
  metadata?: Record<string, string>;
}): string {
  const connectionString = localComponentValues(loadStackSettings()).ACTOR_STATE_CONNECTION_STRING as string;
  const settings: Record<string, string> = {
    connectionString,
    tableName: `${options.table}_state`,
    metadataTableName: `${options.table}_metadata`,
    ...options.metadata,
  };
  const lines = Object.entries(settings).map(
    ([name, value]) => `    - name: ${name}\n      value: ${JSON.stringify(value)}`,
  );
  return [
    'apiVersion: dapr.io/v1alpha1',
    'kind: Component',
    'metadata:',
    `  name: ${options.name}`,
    'spec:',
    '  type: state.postgresql',
    '  version: v1',
    '  metadata:',
    ...lines,
    'scopes:',
    `  - ${options.appId}`,
    '',
  ].join('\n');
}
