import { AppError, type PendingEvent } from '@ecom/shared';
import { AuthService, hashToken, type TokenPair } from './auth-service';
import type {
  AccessTokenClaims,
  Account,
  AccountStore,
  ConsumeResult,
  LoginThrottle,
  PasswordHasher,
  RefreshTokenRecord,
  RegistrationThrottle,
  Role,
  Session,
  SessionStore,
  ThrottleKeys,
  TrustedDevices,
} from './ports';

class MemoryAccounts implements AccountStore {
  readonly rows = new Map<string, { account: Account; outbox: PendingEvent[] }>();
  async insert(account: Account, events: PendingEvent[]): Promise<'created' | 'duplicate'> {
    if ([...this.rows.values()].some((r) => r.account.email === account.email)) return 'duplicate';
    this.rows.set(account.id, { account, outbox: events });
    return 'created';
  }
  async findByEmail(email: string): Promise<Account | undefined> {
    return [...this.rows.values()].find((r) => r.account.email === email)?.account;
  }
  async findById(id: string): Promise<Account | undefined> {
    return this.rows.get(id)?.account;
  }
  async grantRole(id: string, role: Role): Promise<void> {
    const row = this.rows.get(id);
    if (row && !row.account.roles.includes(role)) row.account.roles.push(role);
  }
}

class MemorySessions implements SessionStore {
  readonly sessions = new Map<string, Session>();
  readonly tokens = new Map<string, RefreshTokenRecord & { usedAt?: Date }>();
  async create(session: Session, firstToken: RefreshTokenRecord): Promise<void> {
    this.sessions.set(session.id, { ...session });
    await this.addRefreshToken(firstToken);
  }
  async find(id: string): Promise<Session | undefined> {
    return this.sessions.get(id);
  }
  async consumeRefreshToken(hash: string, now: Date): Promise<ConsumeResult> {
    const token = this.tokens.get(hash);
    if (!token) return { outcome: 'unknown' };
    if (token.usedAt) return { outcome: 'reused', token };
    token.usedAt = now;
    return { outcome: 'consumed', token };
  }
  async addRefreshToken(token: RefreshTokenRecord): Promise<void> {
    this.tokens.set(token.hash, { ...token });
  }
  async revoke(id: string, reason: string, now: Date): Promise<void> {
    const session = this.sessions.get(id);
    if (session && !session.revokedAt) Object.assign(session, { revokedAt: now, revokedReason: reason });
  }
}

/** A transparent "hash" so tests stay fast; the real one is argon2id. */
const hasher: PasswordHasher = {
  hash: async (password) => `hashed:${password}`,
  verify: async (hash, password) => hash === `hashed:${password}`,
};

/** Blocks an account after `max` failures unless the attempt comes from a trusted device. */
class CountingThrottle implements LoginThrottle {
  readonly failures = new Map<string, number>();
  readonly seen: ThrottleKeys[] = [];
  constructor(private readonly max: number) {}
  async assertAllowed(keys: ThrottleKeys): Promise<void> {
    this.seen.push(keys);
    if (keys.device === undefined && (this.failures.get(keys.account) ?? 0) >= this.max) {
      throw new AppError('RATE_LIMITED', 'too many', { retryAfterSeconds: 60 });
    }
  }
  async recordFailure(keys: ThrottleKeys): Promise<void> {
    this.failures.set(keys.account, (this.failures.get(keys.account) ?? 0) + 1);
  }
  async recordSuccess(keys: ThrottleKeys): Promise<void> {
    this.failures.delete(keys.account);
  }
}

class MemoryDevices implements TrustedDevices {
  readonly accounts = new Map<string, string>();
  async accountOf(tokenHash: string): Promise<string | undefined> {
    return this.accounts.get(tokenHash);
  }
  async trust(tokenHash: string, account: string): Promise<void> {
    this.accounts.set(tokenHash, account);
  }
}

class CountingRegistrations implements RegistrationThrottle {
  readonly duplicates = new Map<string, number>();
  constructor(private readonly max: number) {}
  async assertAllowed(client: string): Promise<void> {
    if ((this.duplicates.get(client) ?? 0) >= this.max) {
      throw new AppError('RATE_LIMITED', 'too many', { retryAfterSeconds: 3600 });
    }
  }
  async recordDuplicate(client: string): Promise<void> {
    this.duplicates.set(client, (this.duplicates.get(client) ?? 0) + 1);
  }
}

function setup() {
  let now = new Date('2026-03-01T10:00:00Z');
  let counter = 0;
  const accounts = new MemoryAccounts();
  const sessions = new MemorySessions();
  const throttle = new CountingThrottle(3);
  const devices = new MemoryDevices();
  const registrations = new CountingRegistrations(2);
  const ended: string[] = [];
  const issued: AccessTokenClaims[] = [];
  let kicks = 0;
  const service = new AuthService({
    accounts,
    sessions,
    endedSessions: { announce: async (sessionId) => void ended.push(sessionId) },
    hasher,
    throttle,
    devices,
    registrations,
    tokens: {
      issue: async (claims) => {
        issued.push(claims);
        return { token: `access-${claims.tokenId}`, expiresIn: 900 };
      },
    },
    outbox: { kick: () => (kicks += 1) },
    clock: { now: () => now },
    random: {
      newId: () => `00000000-0000-4000-8000-${String((counter += 1)).padStart(12, '0')}`,
      newSecret: () => `secret-${(counter += 1)}`,
    },
    sessionTtlSeconds: 3600,
  });
  return {
    service,
    accounts,
    sessions,
    throttle,
    devices,
    registrations,
    ended,
    issued,
    kicks: () => kicks,
    advance: (seconds: number) => {
      now = new Date(now.getTime() + seconds * 1000);
    },
  };
}

const ada = { email: ' Ada@Example.COM ', password: 'analytical engine', name: 'Ada' };

describe('AuthService.register', () => {
  it('stores a normalised account with user_registered inside the same write, then wakes the relay', async () => {
    const t = setup();
    const result = await t.service.register(ada, 'c');
    expect(result).toMatchObject({ email: 'ada@example.com', roles: ['customer'] });
    const row = t.accounts.rows.get(result.userId)!;
    expect(row.account.passwordHash).toBe('hashed:analytical engine');
    expect(row.outbox).toHaveLength(1);
    expect(row.outbox[0]).toMatchObject({
      topic: 'user_registered',
      payload: {
        userId: result.userId,
        email: 'ada@example.com',
        name: 'Ada',
        roles: ['customer'],
        schemaVersion: 1,
      },
    });
    expect(t.kicks()).toBe(1);
  });

  it('refuses a duplicate email with CONFLICT and a weak password with INVALID_DATA, writing nothing', async () => {
    const t = setup();
    await t.service.register(ada, 'c');
    await expect(t.service.register({ ...ada, email: 'ADA@example.com' }, 'c')).rejects.toMatchObject({
      kind: 'CONFLICT',
    });
    await expect(
      t.service.register({ ...ada, email: 'b@example.com', password: 'password1' }, 'c'),
    ).rejects.toMatchObject({
      kind: 'INVALID_DATA',
      fields: [{ field: 'password' }],
    });
    expect(t.accounts.rows.size).toBe(1);
  });

  it('answers "already exists" only a few times per client, then makes it wait', async () => {
    const t = setup();
    await t.service.register(ada, 'c');
    for (let i = 0; i < 2; i += 1) {
      await expect(t.service.register(ada, 'prober')).rejects.toMatchObject({ kind: 'CONFLICT' });
    }
    await expect(t.service.register(ada, 'prober')).rejects.toMatchObject({ kind: 'RATE_LIMITED' });
    await expect(t.service.register({ ...ada, email: 'new@example.com' }, 'prober')).rejects.toMatchObject({
      kind: 'RATE_LIMITED',
    });
    // Another client, and sign-ups that create an account, are not affected.
    await expect(t.service.register({ ...ada, email: 'new@example.com' }, 'c')).resolves.toMatchObject({
      email: 'new@example.com',
    });
    expect(t.registrations.duplicates.get('c')).toBeUndefined();
  });

  it('seeds an admin once, and grants the role to an existing account', async () => {
    const t = setup();
    await t.service.ensureAdmin('root@example.com', 'root-password-long');
    await t.service.ensureAdmin('root@example.com', 'root-password-long');
    expect(t.accounts.rows.size).toBe(1);
    expect((await t.accounts.findByEmail('root@example.com'))?.roles).toEqual(['customer', 'admin']);
    const { userId } = await t.service.register(ada, 'c');
    await t.service.ensureAdmin('ada@example.com', 'whatever-it-is');
    expect((await t.accounts.findById(userId))?.roles).toContain('admin');
  });
});

describe('AuthService.login / refresh / logout', () => {
  it('answers an unknown email and a wrong password identically and counts both failures', async () => {
    const t = setup();
    await t.service.register(ada, 'c');
    const unknown = await t.service
      .login({ email: 'nobody@example.com', password: 'x' }, 'c')
      .catch((e: unknown) => e);
    const wrong = await t.service
      .login({ email: ada.email, password: 'wrong' }, 'c')
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(AppError);
    expect(wrong).toBeInstanceOf(AppError);
    expect([(unknown as AppError).kind, (unknown as AppError).message]).toEqual([
      (wrong as AppError).kind,
      (wrong as AppError).message,
    ]);
    expect(t.throttle.failures.get('ada@example.com')).toBe(1);
  });

  it('holds the account up after the limit, even for the right password, from a new device', async () => {
    const t = setup();
    await t.service.register(ada, 'c');
    for (let i = 0; i < 3; i += 1) {
      await expect(t.service.login({ email: ada.email, password: 'wrong' }, 'c')).rejects.toMatchObject({
        kind: 'UNAUTHORIZED',
      });
    }
    await expect(t.service.login(ada, 'c')).rejects.toMatchObject({
      kind: 'RATE_LIMITED',
      retryAfterSeconds: 60,
    });
  });

  it("lets a device that logged in before past the account's delay: failing on purpose locks nobody out", async () => {
    const t = setup();
    await t.service.register(ada, 'c');
    const { deviceToken } = await t.service.login(ada, 'owner-laptop');
    expect([...t.devices.accounts.entries()]).toEqual([[hashToken(deviceToken), 'ada@example.com']]);
    for (let i = 0; i < 3; i += 1) {
      await expect(
        t.service.login({ email: ada.email, password: 'guess' }, 'attacker'),
      ).rejects.toMatchObject({ kind: 'UNAUTHORIZED' });
    }
    await expect(t.service.login(ada, 'attacker')).rejects.toMatchObject({ kind: 'RATE_LIMITED' });
    const again = await t.service.login({ ...ada, deviceToken }, 'owner-laptop');
    expect(again.deviceToken).toBe(deviceToken);
    expect(t.throttle.seen.at(-1)).toEqual({
      account: 'ada@example.com',
      client: 'owner-laptop',
      device: hashToken(deviceToken),
    });
  });

  it("does not trust another account's device token, nor an unknown one", async () => {
    const t = setup();
    await t.service.register(ada, 'c');
    await t.service.register({ ...ada, email: 'eve@example.com' }, 'c');
    const eves = await t.service.login({ ...ada, email: 'eve@example.com' }, 'eve');
    for (const deviceToken of [eves.deviceToken, 'made-up']) {
      const answer = await t.service.login({ ...ada, deviceToken }, 'eve');
      expect(t.throttle.seen.at(-1)).not.toHaveProperty('device');
      expect(answer.deviceToken).not.toBe(deviceToken);
    }
  });

  it('rotates refresh tokens; a reused one revokes the whole family', async () => {
    const t = setup();
    const { userId } = await t.service.register(ada, 'c');
    const first = await t.service.login(ada, 'c');
    expect(first).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, refreshExpiresIn: 3600 });
    expect(t.sessions.tokens.has(hashToken(first.refreshToken))).toBe(true);
    expect([...t.sessions.tokens.keys()]).not.toContain(first.refreshToken);

    const second = await t.service.refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(t.issued.at(-1)).toMatchObject({ userId, roles: ['customer'] });

    await expect(t.service.refresh(first.refreshToken)).rejects.toMatchObject({ kind: 'UNAUTHORIZED' });
    const session = [...t.sessions.sessions.values()][0]!;
    expect(session.revokedReason).toBe('refresh token reused');
    // The other services learn it too: the family's access tokens stop working everywhere.
    expect(t.ended).toEqual([session.id]);
    await expect(t.service.refresh(second.refreshToken)).rejects.toMatchObject({ kind: 'UNAUTHORIZED' });
  });

  it('enforces the absolute session expiry whatever the rotation', async () => {
    const t = setup();
    await t.service.register(ada, 'c');
    let pair: TokenPair = await t.service.login(ada, 'c');
    t.advance(1800);
    pair = await t.service.refresh(pair.refreshToken);
    expect(pair.refreshExpiresIn).toBe(1800);
    t.advance(1801);
    await expect(t.service.refresh(pair.refreshToken)).rejects.toMatchObject({ kind: 'UNAUTHORIZED' });
  });

  it('logout revokes the session; another user cannot end it', async () => {
    const t = setup();
    const { userId } = await t.service.register(ada, 'c');
    const pair = await t.service.login(ada, 'c');
    const sessionId = t.issued.at(-1)!.sessionId;
    await t.service.logout('someone-else', sessionId);
    await expect(t.service.whoAmI(userId, sessionId)).resolves.toMatchObject({ userId });
    expect(t.ended).toEqual([]);
    await t.service.logout(userId, sessionId);
    expect(t.ended).toEqual([sessionId]);
    await expect(t.service.whoAmI(userId, sessionId)).rejects.toMatchObject({ kind: 'UNAUTHORIZED' });
    await expect(t.service.refresh(pair.refreshToken)).rejects.toMatchObject({ kind: 'UNAUTHORIZED' });
  });
});
