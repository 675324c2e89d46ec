import mongoose, { type Connection } from 'mongoose';
import { z } from 'zod';
import { baseConfigSchema } from '../config/load-config';
import type { ServiceApp } from '../http/create-service-app';
import { mongoReadiness } from '../http/readiness-checks';
import type { Logger } from '../logging/logger';
import { chooseMongoOutbox, type MongoOutboxChoice } from '../outbox/mongo-outbox-choice';
import {
  assembleService,
  runComposedService,
  type OpenedStore,
  type ServiceContext,
  type ServiceParts,
} from './compose-service';

/** Settings of every MongoDB service: the base and its database. */
export const mongoServiceConfigSchema = baseConfigSchema.extend({
  MONGODB_URL: z.string().min(1),
});
export type MongoServiceConfig = z.infer<typeof mongoServiceConfigSchema>;

/** What the MongoDB bootstrap adds to the common context. */
export interface MongoStore {
  connection: Connection;
  /**
   * How this server lets the service publish, read from its `hello` at start. On a replica set
   * (or a mongos) that is Dapr's outbox over a `state.mongodb` store, whose transaction commits
   * the state and its event together; on a standalone server, FerretDB v1 included, it is the
   * single-document outbox (mongo-outbox.ts). The services' stores run on FerretDB here, so each
   * still publishes through its document outbox; the choice is what a store on Dapr's outbox reads.
   */
  outbox: MongoOutboxChoice;
}

/** What the bootstrap hands a MongoDB service to compose itself from. */
export type MongoServiceContext<C> = ServiceContext<C, MongoStore>;

type Compose<C> = (context: MongoServiceContext<C>) => ServiceParts | Promise<ServiceParts>;

/** Opens a service's own database; a server that is away fails this attempt after 5 s, not never. */
export async function connectMongo(url: string): Promise<Connection> {
  const connection = mongoose.createConnection(url, { serverSelectionTimeoutMS: 5_000 });
  try {
    return await connection.asPromise();
  } catch (error) {
    // Nothing left open behind a failed attempt: the start may try again.
    await connection.close().catch(() => undefined);
    throw error;
  }
}

/** The store over an open connection: the server asked what it is, its probe, and its close. */
async function openMongoStore(connection: Connection, logger: Logger): Promise<OpenedStore<MongoStore>> {
  try {
    if (!connection.db) throw new Error('the MongoDB connection is not open');
    const hello: unknown = await connection.db.admin().command({ hello: 1 });
    const outbox = chooseMongoOutbox(hello);
    logger.info({ outbox: outbox.path, reason: outbox.reason }, "outbox chosen from the server's hello");
    return {
      context: { connection, outbox },
      readiness: [mongoReadiness(connection, { outbox: outbox.path, outboxReason: outbox.reason })],
      close: () => connection.close(),
    };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/**
 * A service on its own MongoDB database: the common composition (see assembleService) plus one
 * mongoose connection, the outbox its server allows, its readiness, and the connection closed
 * last at shutdown, after the service's own parts stopped.
 */
export function runMongoService<S extends z.ZodType<MongoServiceConfig>>(options: {
  name: string;
  configSchema: S;
  compose: Compose<z.infer<S>>;
}): void {
  runComposedService({
    ...options,
    openStore: async ({ config, logger }) => openMongoStore(await connectMongo(config.MONGODB_URL), logger),
  });
}

/**
 * The same service over a connection its caller opened and settings it parsed: what an
 * integration test runs on a database of its own. The service closes the connection on stop.
 */
export function assembleMongoService<C extends MongoServiceConfig>(options: {
  name: string;
  config: C;
  logger: Logger;
  connection: Connection;
  compose: Compose<C>;
}): Promise<ServiceApp> {
  const { connection, ...assembly } = options;
  return assembleService({ ...assembly, openStore: ({ logger }) => openMongoStore(connection, logger) });
}
