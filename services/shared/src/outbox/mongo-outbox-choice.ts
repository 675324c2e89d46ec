import { z } from 'zod';

/**
 * How a MongoDB service publishes its events. `dapr-outbox`: Dapr's transactional outbox on a
 * `state.mongodb` store, which commits the state and its event in one multi-document transaction.
 * `document-outbox`: the event rides inside the changed document and the service's own relay
 * publishes it (see mongo-outbox.ts); one single-document write, which every server can make atomic.
 */
export type MongoOutboxPath = 'dapr-outbox' | 'document-outbox';

export interface MongoOutboxChoice {
  path: MongoOutboxPath;
  /** Why, in the server's own terms: logged at start and shown by /readyz. */
  reason: string;
}

/**
 * The fields of the server's `hello` reply the choice reads; the rest is ignored. A server that
 * omits one (FerretDB 1.x reports neither `setName` nor `logicalSessionTimeoutMinutes`) simply
 * lacks what it would prove.
 */
export const helloReplySchema = z.looseObject({
  /** Present on a replica set member only. */
  setName: z.string().optional(),
  /** `isdbgrid` on a mongos, the router of a sharded cluster. */
  msg: z.string().optional(),
  maxWireVersion: z.number().int().optional(),
  /** Present (and not null) where the server supports sessions, which transactions run in. */
  logicalSessionTimeoutMinutes: z.number().nullable().optional(),
});
export type HelloReply = z.infer<typeof helloReplySchema>;

/** Wire version 7 is MongoDB 4.0: the first with transactions, on replica sets only. */
const REPLICA_SET_TRANSACTIONS_WIRE = 7;
/** Wire version 8 is MongoDB 4.2: the first with transactions across shards. */
const SHARDED_TRANSACTIONS_WIRE = 8;

/**
 * Picks the outbox from what the server says of itself, never from a setting that could claim
 * transactions the server does not have: Dapr's outbox needs a multi-document transaction, which
 * MongoDB runs on a replica set (4.0+) or through a mongos (4.2+), inside a logical session. A
 * standalone server, and FerretDB v1, which answers like one, get the single-document outbox.
 */
export function chooseMongoOutbox(hello: unknown): MongoOutboxChoice {
  const parsed = helloReplySchema.safeParse(hello);
  if (!parsed.success) {
    // The single-document outbox is right on every server: the safe side of a reply we cannot read.
    return { path: 'document-outbox', reason: `unreadable hello reply: ${parsed.error.message}` };
  }
  const reply = parsed.data;
  const wire = reply.maxWireVersion ?? 0;
  const sessions =
    reply.logicalSessionTimeoutMinutes !== undefined && reply.logicalSessionTimeoutMinutes !== null;
  if (reply.msg === 'isdbgrid') {
    return transactionsIf(
      sessions && wire >= SHARDED_TRANSACTIONS_WIRE,
      `mongos with maxWireVersion ${wire}, logical sessions ${sessions ? 'on' : 'off'} ` +
        `(sharded transactions need wire ${SHARDED_TRANSACTIONS_WIRE}+ and sessions)`,
    );
  }
  if (reply.setName !== undefined) {
    return transactionsIf(
      sessions && wire >= REPLICA_SET_TRANSACTIONS_WIRE,
      `replica set ${reply.setName} with maxWireVersion ${wire}, logical sessions ${sessions ? 'on' : 'off'} ` +
        `(replica set transactions need wire ${REPLICA_SET_TRANSACTIONS_WIRE}+ and sessions)`,
    );
  }
  return {
    path: 'document-outbox',
    reason:
      'no replica set and no mongos: a standalone server (FerretDB v1 answers as one) has no multi-document transactions',
  };
}

function transactionsIf(supported: boolean, reason: string): MongoOutboxChoice {
  return { path: supported ? 'dapr-outbox' : 'document-outbox', reason };
}
