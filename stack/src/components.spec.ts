import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { pgStateComponent, renderDaprResources, writeResource } from './components';
import { sidecarSpec } from './sidecar';
import { loadStackSettings } from './stack';

describe('rendering Dapr resources for running sidecars', () => {
  it('leaves a file with unchanged content untouched, so hot-reloading sidecars see no change', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ecom-res-'));
    const file = path.join(dir, 'a.yaml');
    writeResource(file, 'one');
    const before = statSync(file);
    writeResource(file, 'one');
    expect(statSync(file).ino).toBe(before.ino);
    expect(statSync(file).mtimeMs).toBe(before.mtimeMs);
    writeResource(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    // Replaced by a rename, never truncated in place; no temporary file is left behind.
    expect(statSync(file).ino).not.toBe(before.ino);
    expect(readdirSync(dir)).toEqual(['a.yaml']);
  });

  it("turns Dapr's HotReload off in every sidecar's Configuration, test sidecars' included", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ecom-dapr-'));
    const values = { KAFKA_BROKERS: 'k:1', ACTOR_STATE_CONNECTION_STRING: 'x', PUBLISHING_SCOPES: 'a=' };
    const rendered = renderDaprResources(dir, values);
    for (const file of [
      rendered.configFile,
      rendered.appConfigFile('order'),
      rendered.appConfigFile('edge'),
    ]) {
      const doc = YAML.parse(readFileSync(file, 'utf8')) as { spec: { features?: unknown } };
      // A reloaded pub/sub component would end Dapr's outbox subscription for good.
      expect(doc.spec.features).toEqual([{ name: 'HotReload', enabled: false }]);
    }
  });

  it("gives every sidecar's Configuration the workflows' state retention, or the one a test passes", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ecom-dapr-'));
    const values = { KAFKA_BROKERS: 'k:1', ACTOR_STATE_CONNECTION_STRING: 'x', PUBLISHING_SCOPES: 'a=' };
    const retention = (file: string): unknown =>
      (YAML.parse(readFileSync(file, 'utf8')) as { spec: { workflow?: { stateRetentionPolicy?: unknown } } })
        .spec.workflow?.stateRetentionPolicy;
    const rendered = renderDaprResources(dir, values);
    for (const file of [rendered.configFile, rendered.appConfigFile('saga')]) {
      expect(retention(file)).toEqual({ completed: '24h', failed: '720h', terminated: '720h' });
    }
    const short = { completed: '1s', failed: '2s', terminated: '3s' };
    expect(retention(renderDaprResources(dir, values, [], short).appConfigFile('saga'))).toEqual(short);
  });

  it('removes extra resources an earlier render wrote and the current one no longer has', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ecom-dapr-'));
    const values = { KAFKA_BROKERS: 'k:1', ACTOR_STATE_CONNECTION_STRING: 'x', PUBLISHING_SCOPES: 'a=' };
    const first = renderDaprResources(dir, values, ['kind: Component\n', 'kind: Component\n']);
    writeFileSync(path.join(first.resourcesDir, 'keep.txt'), 'not ours');
    const second = renderDaprResources(dir, values, ['kind: Component\n']);
    const files = readdirSync(second.resourcesDir);
    expect(files).toContain('zz-extra-0.yaml');
    expect(files).not.toContain('zz-extra-1.yaml');
    expect(files).toContain('keep.txt');
  });

  it('knows which apps host actors: those an actor state store is scoped to, and only their sidecars join placement', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ecom-dapr-'));
    const values = { KAFKA_BROKERS: 'k:1', ACTOR_STATE_CONNECTION_STRING: 'x', PUBLISHING_SCOPES: 'a=' };
    // dapr-components/actorstate.yaml: the saga's.
    expect([...renderDaprResources(dir, values).actorHosts]).toEqual(['saga']);
    const probe = pgStateComponent(values, {
      name: 'probe-store',
      appId: 'probe',
      table: 't',
      metadata: { actorStateStore: 'true' },
    });
    const plain = pgStateComponent(values, { name: 'plain-store', appId: 'plain', table: 'u' });
    const rendered = renderDaprResources(dir, values, [probe, plain]);
    expect([...rendered.actorHosts].sort()).toEqual(['probe', 'saga']);

    const args = (actors: boolean) =>
      sidecarSpec(loadStackSettings(), {
        appId: 'probe',
        httpPort: 1,
        grpcPort: 2,
        internalGrpcPort: 3,
        resourcesDir: rendered.resourcesDir,
        configFile: rendered.configFile,
        actors,
      }).args;
    expect(args(true)).toEqual(
      expect.arrayContaining(['--placement-host-address', '--scheduler-host-address']),
    );
    expect(args(false).filter((a) => a.includes('placement') || a.includes('scheduler'))).toEqual([]);
  });

  it("renders a probe's own PostgreSQL state store: its tables, its settings as strings, its scope", () => {
    const text = pgStateComponent(
      { ACTOR_STATE_CONNECTION_STRING: "host=127.0.0.1 port=15432 dbname=dapr_state password='a: b'" },
      { name: 'probe-store', appId: 'probe', table: 'probe_t', metadata: { actorStateStore: 'true' } },
    );
    const doc = YAML.parse(text) as {
      kind: string;
      metadata: { name: string };
      spec: { type: string; version: string; metadata: { name: string; value: unknown }[] };
      scopes: string[];
    };
    expect(doc).toMatchObject({
      kind: 'Component',
      metadata: { name: 'probe-store' },
      spec: { type: 'state.postgresql', version: 'v1' },
      scopes: ['probe'],
    });
    expect(doc.spec.metadata).toEqual([
      { name: 'connectionString', value: "host=127.0.0.1 port=15432 dbname=dapr_state password='a: b'" },
      { name: 'tableName', value: 'probe_t_state' },
      { name: 'metadataTableName', value: 'probe_t_metadata' },
      { name: 'actorStateStore', value: 'true' },
    ]);
  });

  it('names the missing setting when there is no actor-state connection string', () => {
    expect(() => pgStateComponent({}, { name: 'probe-store', appId: 'probe', table: 't' })).toThrow(
      /probe-store needs ACTOR_STATE_CONNECTION_STRING/,
    );
  });
});
