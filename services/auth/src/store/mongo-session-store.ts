import { Schema, type Connection, type Model } from 'mongoose';
import type { ConsumeResult, RefreshTokenRecord, Session, SessionStore } from '../domain/ports';

interface SessionDocument {
  _id: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  revokedReason: string | null;
}

interface RefreshTokenDocument {
  /** SHA-256 of the token: the token itself is never stored. */
  _id: string;
  sessionId: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

const sessionSchema = new Schema<SessionDocument>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true, index: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true, index: true },
    revokedAt: { type: Date, default: null },
    revokedReason: { type: String, default: null },
  },
  { versionKey: false, collection: 'sessions' },
);

const refreshTokenSchema = new Schema<RefreshTokenDocument>(
  {
    _id: { type: String, required: true },
    sessionId: { type: String, required: true, index: true },
    userId: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true, index: true },
    usedAt: { type: Date, default: null },
  },
  { versionKey: false, collection: 'refresh_tokens' },
);

function toSession(doc: SessionDocument): Session {
  return {
    id: doc._id,
    userId: doc.userId,
    createdAt: doc.createdAt,
    expiresAt: doc.expiresAt,
    ...(doc.revokedAt ? { revokedAt: doc.revokedAt } : {}),
    ...(doc.revokedReason ? { revokedReason: doc.revokedReason } : {}),
  };
}

function toToken(doc: RefreshTokenDocument): RefreshTokenRecord {
  return {
    hash: doc._id,
    sessionId: doc.sessionId,
    userId: doc.userId,
    createdAt: doc.createdAt,
    expiresAt: doc.expiresAt,
  };
}

/** Sessions and their refresh tokens (hashed) in MongoDB. */
export class MongoSessionStore implements SessionStore {
  readonly sessions: Model<SessionDocument>;
  readonly tokens: Model<RefreshTokenDocument>;

  constructor(connection: Connection) {
    this.sessions = connection.model<SessionDocument>('Session', sessionSchema);
    this.tokens = connection.model<RefreshTokenDocument>('RefreshToken', refreshTokenSchema);
  }

  async init(): Promise<void> {
    await Promise.all([this.sessions.init(), this.tokens.init()]);
  }

  async create(session: Session, firstToken: RefreshTokenRecord): Promise<void> {
    // The session first: a token without its session would be refused anyway.
    await this.sessions.create({
      _id: session.id,
      userId: session.userId,
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
    });
    await this.addRefreshToken(firstToken);
  }

  async find(id: string): Promise<Session | undefined> {
    const doc = await this.sessions.findById(id).lean<SessionDocument>();
    return doc ? toSession(doc) : undefined;
  }

  async consumeRefreshToken(hash: string, now: Date): Promise<ConsumeResult> {
    // findAndModify without a projection: FerretDB rejects one.
    const before = await this.tokens
      .findOneAndUpdate({ _id: hash, usedAt: null }, { $set: { usedAt: now } }, { returnDocument: 'before' })
      .lean<RefreshTokenDocument>();
    if (before) return { outcome: 'consumed', token: toToken(before) };
    const used = await this.tokens.findById(hash).lean<RefreshTokenDocument>();
    return used ? { outcome: 'reused', token: toToken(used) } : { outcome: 'unknown' };
  }

  async addRefreshToken(token: RefreshTokenRecord): Promise<void> {
    await this.tokens.create({
      _id: token.hash,
      sessionId: token.sessionId,
      userId: token.userId,
      createdAt: token.createdAt,
      expiresAt: token.expiresAt,
    });
  }

  async revoke(id: string, reason: string, now: Date): Promise<void> {
    await this.sessions.updateOne(
      { _id: id, revokedAt: null },
      { $set: { revokedAt: now, revokedReason: reason } },
    );
  }

  /**
   * Deletes what expired (there are no TTL indexes on the MongoDB-protocol
   * server here). A used token is kept until its session expires, so a replay
   * is still recognised as one.
   */
  async purgeExpired(now: Date): Promise<number> {
    const tokens = await this.tokens.deleteMany({ expiresAt: { $lte: now } });
    const sessions = await this.sessions.deleteMany({ expiresAt: { $lte: now } });
    return tokens.deletedCount + sessions.deletedCount;
  }
}
