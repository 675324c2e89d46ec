import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_MANAGED, DEFAULT_MONGO_MANAGED } from './defaults';

/** KEY=VALUE lines of stack/versions.env, which stack/provision/infra-images.sh tags the images from. */
function versions(): Record<string, string> {
  const text = readFileSync(join(__dirname, '../../../stack/versions.env'), 'utf8');
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)="?([^"]*)"?$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

describe('default images', () => {
  it('are the ones stack/provision/infra-images.sh builds (names and versions from stack/versions.env)', () => {
    const v = versions();
    const prefix = v.INFRA_IMAGE_PREFIX;
    expect(prefix).toBeDefined();
    expect({
      kafka: DEFAULT_MANAGED.kafka.image,
      postgres: DEFAULT_MANAGED.postgres.image,
      redis: DEFAULT_MANAGED.redis.image,
      ferretdb: DEFAULT_MONGO_MANAGED.ferretdb.image,
    }).toEqual({
      kafka: `${prefix}/kafka:${v.KAFKA_VERSION}`,
      postgres: `${prefix}/postgres:${v.POSTGRES_MAJOR}`,
      redis: `${prefix}/redis:${v.REDIS_MAJOR}`,
      ferretdb: `${prefix}/ferretdb:${v.FERRETDB_VERSION}`,
    });
  });
});
