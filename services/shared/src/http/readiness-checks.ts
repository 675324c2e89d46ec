import type { ReadinessCheck } from './create-service-app';

/** The readiness probes services share: each really talks to its dependency. */

/** A MongoDB connection (mongoose's) answers `ping`. */
export function mongoReadiness(
  connection: { db?: { admin(): { ping(): Promise<unknown> } } },
  detail?: Record<string, string>,
): ReadinessCheck {
  return {
    name: 'mongodb',
    ...(detail ? { detail } : {}),
    check: async () => {
      if (!connection.db) throw new Error('not connected');
      await connection.db.admin().ping();
    },
  };
}

/** A Redis client answers PING; a cache is usually not critical (the service runs degraded without it). */
export function redisReadiness(
  redis: { ping(): Promise<unknown> },
  options: { name?: string; critical?: boolean } = {},
): ReadinessCheck {
  return {
    name: options.name ?? 'redis',
    critical: options.critical ?? false,
    check: async () => {
      await redis.ping();
    },
  };
}

/** A PostgreSQL pool answers `SELECT 1`. */
export function postgresReadiness(db: { query(sql: string): Promise<unknown> }): ReadinessCheck {
  return {
    name: 'postgres',
    check: async () => {
      await db.query('SELECT 1');
    },
  };
}
