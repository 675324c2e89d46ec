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

/**
 * Failed logins per account, client and device. An account's failures only
 * delay its logins (see login-delay.ts), and not at all from a device that
 * logged in to it before; a client's failures lock that client out.
 */
export interface LoginThrottle {
  /**
   * Throws RATE_LIMITED (with retry-after) when the client is over its limit,
   * or when the account is inside the delay of its last failure and `device`
   * is absent (or over its own limit). Concurrent attempts inside a delay get
   * one slot between them.
   */
  assertAllowed(keys: ThrottleKeys): Promise<void>;
  recordFailure(keys: ThrottleKeys): Promise<void>;
  /** A successful login clears the account's and the device's counts (never the client's). */
  recordSuccess(keys: ThrottleKeys): Promise<void>;
}

export interface ThrottleKeys {
  account: string;
  client: string;
  /** The hash of a device token the account trusts (it logged in from there before). */
  device?: string;
}

/**
 * Devices that logged in to an account before (OWASP "device cookies"): each
 * holds an opaque token, stored only as its hash, valid for a while.
 */
export interface TrustedDevices {
  /** The account the device token was given to, while it is valid. */
  accountOf(tokenHash: string): Promise<string | undefined>;
  /** Trusts the device for the account (again), for the configured lifetime. */
  trust(tokenHash: string, account: string): Promise<void>;
}

/** Bounds how often one client may hear "this email already has an account". */
export interface RegistrationThrottle {
  /** Throws RATE_LIMITED (with retry-after) once the client was told that too often lately. */
  assertAllowed(client: string): Promise<void>;
  recordDuplicate(client: string): Promise<void>;
}

/**
 * Tells every other service that a session ended, so its access tokens are
 * refused at once rather than when they expire (the shared verifier reads it).
 */
export interface EndedSessions {
  announce(sessionId: string): Promise<void>;
}

/** Hands embedded events to the relay now, rather than at its next poll. */
export interface OutboxKick {
  kick(): void;
}
