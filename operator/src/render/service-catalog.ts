import { SERVICE_PORTS } from '../api/defaults';
import { SERVICE_NAMES, type ServiceName } from '../api/ecom-stack';

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
