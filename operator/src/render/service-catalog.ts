import { EDGE_APP_ID } from '@ecom/shared/access/who-may-call';
import { EDGE_PORT, SERVICE_PORTS } from '../api/defaults';
import { SERVICE_NAMES, type ServiceName } from '../api/ecom-stack';
import type { AppName } from './context';

export type Store = 'postgres' | 'mongodb';

/** What each service needs from the stack (DESIGN §2): its database and extras. */
export interface ServiceNeeds {
  name: ServiceName;
  port: number;
  store: Store;
  /** Reads REDIS_URL (auth: login throttling; user: profile cache). */
  redis: boolean;
  /** Verifies access tokens itself, against auth's JWKS (every service but auth, which signs them). */
  verifiesTokens: boolean;
  /** Holds Dapr Workflow / actor state, so its sidecar needs the actor state store. */
  actors: boolean;
}

const STORES: Record<ServiceName, Store> = {
  auth: 'mongodb',
  user: 'mongodb',
  notification: 'mongodb',
  order: 'postgres',
  inventory: 'postgres',
  payment: 'postgres',
  saga: 'postgres',
};

export const SERVICES: readonly ServiceNeeds[] = SERVICE_NAMES.map((name) => ({
  name,
  port: SERVICE_PORTS[name],
  store: STORES[name],
  redis: name === 'auth' || name === 'user',
  verifiesTokens: name !== 'auth',
  actors: name === 'saga',
}));

export function servicesUsing(store: Store): ServiceName[] {
  return SERVICES.filter((s) => s.store === store).map((s) => s.name);
}

/** The public edge: no database, no cache, no component; its port is the one clients reach. */
export const EDGE = { name: EDGE_APP_ID, port: EDGE_PORT } as const;

/** Every app with a Dapr sidecar: the seven services, then the edge. */
export const APP_NAMES: readonly AppName[] = [...SERVICE_NAMES, EDGE.name];

/**
 * Which of the stack's pods (by component label) connect to each managed backend: the apps whose
 * code or sidecar uses it, and the backends' own helpers. The edge reaches none of them.
 */
export function backendClients(backend: 'kafka' | 'postgres' | 'mongodb' | 'redis'): string[] {
  switch (backend) {
    // Every service's sidecar has the pub/sub component; the topics Job creates the topics.
    case 'kafka':
      return [...SERVICE_NAMES, 'kafka-topics'];
    // FerretDB keeps its documents in the managed PostgreSQL.
    case 'postgres':
      return [...servicesUsing('postgres'), 'mongodb'];
    case 'mongodb':
      return servicesUsing('mongodb');
    // REDIS_URL, or auth's session denylist that every verifying service reads.
    case 'redis':
      return SERVICES.filter((s) => s.redis || s.verifiesTokens).map((s) => s.name);
  }
}
