import { createHash } from 'node:crypto';
import { AppError, pendingEvent } from '@ecom/shared';
import { normaliseEmail } from './email';
import { passwordProblems } from './password-policy';
import type {
  AccessTokenIssuer,
  Account,
  AccountStore,
  Clock,
  EndedSessions,
  LoginThrottle,
  OutboxKick,
  PasswordHasher,
  Randomness,
  RegistrationThrottle,
  Role,
  SessionStore,
  ThrottleKeys,
  TrustedDevices,
} from './ports';

export interface AuthServiceDeps {
  accounts: AccountStore;
  sessions: SessionStore;
  endedSessions: EndedSessions;
  hasher: PasswordHasher;
  tokens: AccessTokenIssuer;
  throttle: LoginThrottle;
  devices: TrustedDevices;
  registrations: RegistrationThrottle;
  outbox: OutboxKick;
  clock: Clock;
  random: Randomness;
  /** Absolute lifetime of a login session and so of every refresh token in it. */
  sessionTtlSeconds: number;
}

export interface Registration {
  email: string;
  password: string;
  name: string;
}

export interface RegisteredAccount {
  userId: string;
  email: string;
  name: string;
  roles: Role[];
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Seconds the access token is valid for. */
  expiresIn: number;
  /** Seconds until the session, and so every refresh token of it, expires. */
  refreshExpiresIn: number;
}

export interface LoginInput {
  email: string;
  password: string;
  /** The device token a previous login from this device answered, if the client kept it. */
  deviceToken?: string | undefined;
}

/** A login also answers the device token that lets this device past the account's delay next time. */
export type LoginResult = TokenPair & { deviceToken: string };

/** One answer for an unknown email and a wrong password, so the login does not reveal who has an account. */
const BAD_CREDENTIALS = 'invalid email or password';
const BAD_REFRESH = 'refresh token is invalid, expired or revoked';

/** SHA-256 of an opaque token; what the store keeps instead of the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Accounts, logins and sessions. Refresh tokens rotate on every use and belong
 * to a family (the session); presenting one that was already used means it was
 * stolen or replayed, so the whole family is revoked.
 */
export class AuthService {
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly deps: AuthServiceDeps) {}

  /**
   * Creates a customer account. "This email already has an account" is an
   * answer about someone else, so a client hears it only a few times per
   * window (`client` is the caller's address); after that it waits.
   */
  async register(input: Registration, client: string): Promise<RegisteredAccount> {
    const problems = passwordProblems(input.password, normaliseEmail(input.email));
    if (problems.length > 0) throw AppError.invalid('password does not meet the policy', problems);
    await this.deps.registrations.assertAllowed(client);
    try {
      return await this.create(input, ['customer']);
    } catch (error) {
      if (error instanceof AppError && error.kind === 'CONFLICT') {
        await this.deps.registrations.recordDuplicate(client);
      }
      throw error;
    }
  }

  private async create(input: Registration, roles: Role[]): Promise<RegisteredAccount> {
    const email = normaliseEmail(input.email);
    const account: Account = {
      id: this.deps.random.newId(),
      email,
      name: input.name,
      roles,
      passwordHash: await this.deps.hasher.hash(input.password),
      createdAt: this.deps.clock.now(),
    };
    const event = pendingEvent(
      'user_registered',
      { userId: account.id, email, name: account.name, roles },
      { now: () => this.deps.clock.now(), newId: () => this.deps.random.newId() },
    );
    const result = await this.deps.accounts.insert(account, [event]);
    if (result === 'duplicate') throw AppError.conflict('an account with this email already exists');
    this.deps.outbox.kick();
    return { userId: account.id, email, name: account.name, roles };
  }

  /** Creates the first admin, or grants the role to an existing account with that email. */
  async ensureAdmin(email: string, password: string): Promise<void> {
    const existing = await this.deps.accounts.findByEmail(normaliseEmail(email));
    if (existing) {
      if (!existing.roles.includes('admin')) await this.deps.accounts.grantRole(existing.id, 'admin');
      return;
    }
    try {
      // The operator chose this password (ADMIN_PASSWORD); the sign-up policy is for the public.
      await this.create({ email, password, name: 'Administrator' }, ['customer', 'admin']);
    } catch (error) {
      // Another replica seeded it first.
      if (!(error instanceof AppError && error.kind === 'CONFLICT')) throw error;
    }
  }

  /**
   * Checks the password under the throttle. A device that logged in to this
   * account before (it presents the device token it got then) is not held up
   * by the account's delay, so nobody can lock an owner out by failing on
   * purpose; a client failing too often is locked out wherever it aims.
   */
  async login(input: LoginInput, client: string): Promise<LoginResult> {
    const email = normaliseEmail(input.email);
    const device = input.deviceToken === undefined ? undefined : hashToken(input.deviceToken);
    const trusted = device !== undefined && (await this.deps.devices.accountOf(device)) === email;
    const keys: ThrottleKeys = { account: email, client, ...(trusted ? { device } : {}) };
    await this.deps.throttle.assertAllowed(keys);
    const account = await this.deps.accounts.findByEmail(email);
    // Verify against a dummy hash for an unknown email so both failures cost the same time.
    const valid = account
      ? await this.deps.hasher.verify(account.passwordHash, input.password)
      : await this.deps.hasher.verify(await this.dummy(), input.password).then(() => false);
    if (!account || !valid) {
      await this.deps.throttle.recordFailure(keys);
      throw AppError.unauthorized(BAD_CREDENTIALS);
    }
    await this.deps.throttle.recordSuccess(keys);
    const deviceToken = trusted && input.deviceToken ? input.deviceToken : this.deps.random.newSecret();
    await this.deps.devices.trust(hashToken(deviceToken), email);
    const now = this.deps.clock.now();
    const session = {
      id: this.deps.random.newId(),
      userId: account.id,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.deps.sessionTtlSeconds * 1000),
    };
    const refreshToken = this.deps.random.newSecret();
    await this.deps.sessions.create(session, {
      hash: hashToken(refreshToken),
      sessionId: session.id,
      userId: account.id,
      createdAt: now,
      expiresAt: session.expiresAt,
    });
    return { ...(await this.tokenPair(account, session.id, session.expiresAt, refreshToken)), deviceToken };
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const now = this.deps.clock.now();
    const consumed = await this.deps.sessions.consumeRefreshToken(hashToken(refreshToken), now);
    if (consumed.outcome === 'unknown') throw AppError.unauthorized(BAD_REFRESH);
    if (consumed.outcome === 'reused') {
      await this.deps.sessions.revoke(consumed.token.sessionId, 'refresh token reused', now);
      await this.deps.endedSessions.announce(consumed.token.sessionId);
      throw AppError.unauthorized(BAD_REFRESH);
    }
    const session = await this.deps.sessions.find(consumed.token.sessionId);
    if (!session || session.revokedAt || session.expiresAt <= now || consumed.token.expiresAt <= now) {
      throw AppError.unauthorized(BAD_REFRESH);
    }
    const account = await this.deps.accounts.findById(session.userId);
    if (!account) throw AppError.unauthorized(BAD_REFRESH);
    const next = this.deps.random.newSecret();
    await this.deps.sessions.addRefreshToken({
      hash: hashToken(next),
      sessionId: session.id,
      userId: account.id,
      createdAt: now,
      expiresAt: session.expiresAt,
    });
    return this.tokenPair(account, session.id, session.expiresAt, next);
  }

  /**
   * Ends the caller's session: its refresh tokens stop working at once, and so
   * do its access tokens wherever the session denylist is read. Announced
   * again on a repeated logout, in case the first announcement failed.
   */
  async logout(userId: string, sessionId: string): Promise<void> {
    const session = await this.deps.sessions.find(sessionId);
    if (!session || session.userId !== userId) return;
    if (!session.revokedAt) await this.deps.sessions.revoke(sessionId, 'logout', this.deps.clock.now());
    await this.deps.endedSessions.announce(sessionId);
  }

  /** The account behind an access token, if its session is still live. */
  async whoAmI(userId: string, sessionId: string): Promise<RegisteredAccount> {
    const session = await this.deps.sessions.find(sessionId);
    if (
      !session ||
      session.userId !== userId ||
      session.revokedAt ||
      session.expiresAt <= this.deps.clock.now()
    ) {
      throw AppError.unauthorized('session has ended');
    }
    const account = await this.deps.accounts.findById(userId);
    if (!account) throw AppError.unauthorized('session has ended');
    return { userId: account.id, email: account.email, name: account.name, roles: account.roles };
  }

  private async tokenPair(
    account: Account,
    sessionId: string,
    expiresAt: Date,
    refreshToken: string,
  ): Promise<TokenPair> {
    const access = await this.deps.tokens.issue({
      userId: account.id,
      roles: account.roles,
      sessionId,
      tokenId: this.deps.random.newId(),
    });
    return {
      accessToken: access.token,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: access.expiresIn,
      refreshExpiresIn: Math.max(
        0,
        Math.floor((expiresAt.getTime() - this.deps.clock.now().getTime()) / 1000),
      ),
    };
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.deps.hasher.hash(this.deps.random.newSecret());
    return this.dummyHash;
  }
}
