import { chooseMongoOutbox } from './mongo-outbox-choice';

/** `hello` replies as the servers send them, trimmed to what identifies each kind. */
const replicaSetPrimary = {
  isWritablePrimary: true,
  setName: 'rs0',
  hosts: ['mongo-0:27017'],
  logicalSessionTimeoutMinutes: 30,
  minWireVersion: 0,
  maxWireVersion: 21,
  ok: 1,
};
const standaloneMongod = {
  isWritablePrimary: true,
  logicalSessionTimeoutMinutes: 30,
  minWireVersion: 0,
  maxWireVersion: 21,
  ok: 1,
};
const mongos = {
  isWritablePrimary: true,
  msg: 'isdbgrid',
  logicalSessionTimeoutMinutes: 30,
  maxWireVersion: 21,
  ok: 1,
};
/** FerretDB 1.x: no setName, no msg, no logical sessions, and a recent wire version. */
const ferretDb = {
  isWritablePrimary: true,
  maxBsonObjectSize: 16_777_216,
  maxWriteBatchSize: 100_000,
  localTime: new Date(),
  minWireVersion: 0,
  maxWireVersion: 21,
  readOnly: false,
  ok: 1,
};

const choose = chooseMongoOutbox;

describe('chooseMongoOutbox: Dapr outbox where the server runs transactions, the document outbox elsewhere', () => {
  it('takes Dapr outbox on a replica set primary, naming the set', () => {
    expect(choose(replicaSetPrimary)).toEqual({
      path: 'dapr-outbox',
      reason: expect.stringContaining('replica set rs0') as unknown,
    });
  });

  it('keeps the document outbox on a replica set older than MongoDB 4.0 (wire 7)', () => {
    expect(choose({ ...replicaSetPrimary, maxWireVersion: 6 }).path).toBe('document-outbox');
    expect(choose({ ...replicaSetPrimary, maxWireVersion: 7 }).path).toBe('dapr-outbox');
  });

  it('keeps the document outbox on a standalone mongod (no setName), even one with sessions', () => {
    expect(choose(standaloneMongod)).toEqual({
      path: 'document-outbox',
      reason: expect.stringContaining('standalone') as unknown,
    });
  });

  it('takes Dapr outbox through a mongos only with logical sessions and MongoDB 4.2+ (wire 8)', () => {
    expect(choose(mongos).path).toBe('dapr-outbox');
    expect(choose({ ...mongos, maxWireVersion: 8 }).path).toBe('dapr-outbox');
    expect(choose({ ...mongos, maxWireVersion: 7 }).path).toBe('document-outbox');
    expect(choose({ ...mongos, logicalSessionTimeoutMinutes: undefined })).toEqual({
      path: 'document-outbox',
      reason: expect.stringContaining('logical sessions off') as unknown,
    });
    expect(choose({ ...mongos, logicalSessionTimeoutMinutes: null }).path).toBe('document-outbox');
  });

  it('keeps the document outbox on FerretDB, whatever wire version it claims', () => {
    expect(choose(ferretDb).path).toBe('document-outbox');
  });

  it('reads a reply with no version at all as too old for transactions', () => {
    expect(choose({ setName: 'rs0', logicalSessionTimeoutMinutes: 30, ok: 1 }).path).toBe('document-outbox');
  });

  it('keeps the document outbox when the reply cannot be read', () => {
    expect(choose({ setName: 42, maxWireVersion: 'new' })).toMatchObject({
      path: 'document-outbox',
      reason: expect.stringContaining('unreadable hello reply') as unknown,
    });
  });
});
