import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { loadStackSettings } from '../../src/stack';

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const s = loadStackSettings();
  const admin = new Client({
    connectionString: `postgres://${s.ECOM_PG_USER}@127.0.0.1:${s.ECOM_PORT_POSTGRES}/postgres`,
  });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** A new, empty database on the stack's PostgreSQL, for a test that needs one of its own. */
export async function scratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const s = loadStackSettings();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  return {
    url: `postgres://${s.ECOM_PG_USER}@127.0.0.1:${s.ECOM_PORT_POSTGRES}/${name}`,
    drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}
