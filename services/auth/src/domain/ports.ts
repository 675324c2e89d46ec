import type { PendingEvent } from '@ecom/shared';

/** The roles an account can hold. */
export const roles = ['customer', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Time, injected so tests control expiry. */
export interface Clock {
  now(): Date;
}

/** Identifiers and secrets, injected so tests are deterministic. */
export interface Randomness {
  /** A unique id (UUID) for users, sessions and token ids. */
  newId(): string;
  /** An unguessable opaque token (refresh tokens). */
  newSecret(): string;
}

export interface Account {
  id: string;
  /** Normalised (trimmed, NFKC, lower-case). */
  email: string;
  name: string;
  roles: Role[];
  passwordHash: string;
  createdAt: Date;
}

export interface AccountStore {
  /** Inserts the account and, in the same single-document write, the events it causes. */
  insert(account: Account, events: PendingEvent[]): Promise<'created' | 'duplicate'>;
  findByEmail(email: string): Promise<Account | undefined>;
  findById(id: string): Promise<Account | undefined>;
  /** Grants a role to an existing account (idempotent). */
  grantRole(id: string, role: Role): Promise<void>;
}

/**
 * A login session: the family of refresh tokens issued from one login. It ends
 * at `expiresAt` whatever happens (absolute expiry), or earlier when revoked.
 */
export interface Session {
  id: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt?: Date;
  revokedReason?: string;
}

/** A refresh token as stored: only its hash is kept. */
export interface RefreshTokenRecord {
  hash: string;
  sessionId: string;
  userId: string;
  createdAt: Date;
  expiresAt: Date;
}

export type ConsumeResult =
  | { outcome: 'consumed'; token: RefreshTokenRecord }
  | { outcome: 'reused'; token: RefreshTokenRecord }
  | { outcome: 'unknown' };

export interface SessionStore {
  create(session: Session, firstToken: RefreshTokenRecord): Promise<void>;
  find(id: string): Promise<Session | undefined>;
  /** Marks a refresh token used, atomically: exactly one caller gets `consumed`; every later one `reused`. */
  consumeRefreshToken(hash: string, now: Date): Promise<ConsumeResult>;
  addRefreshToken(token: RefreshTokenRecord): Promise<void>;
  revoke(id: string, reason: string, now: Date): Promise<void>;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
}

export interface AccessTokenClaims {
  userId: string;
  roles: Role[];
  sessionId: string;
  tokenId: string;
}

export interface AccessTokenIssuer {
  issue(claims: AccessTokenClaims): Promise<{ token: string; expiresIn: number }>;
}

/** Counts failed logins per key (account, client) and refuses attempts past the limit. */
export interface LoginThrottle {
  /** Throws RATE_LIMITED (with retry-after) when any key is over its limit. */
  assertAllowed(keys: ThrottleKeys): Promise<void>;
  recordFailure(keys: ThrottleKeys): Promise<void>;
  /** A successful login clears the account's count (never the client's). */
  clearAccount(account: string): Promise<void>;
}

export interface ThrottleKeys {
  account: string;
  client: string;
}

/** Hands embedded events to the relay now, rather than at its next poll. */
export interface OutboxKick {
  kick(): void;
}
