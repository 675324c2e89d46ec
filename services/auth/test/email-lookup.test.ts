import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { loadStackSettings } from '../../../stack/src/stack';
import { Argon2PasswordHasher } from '../src/store/argon2-password-hasher';
import { login, registerUser } from './support/auth-client';

type Doc = { _id: string; [field: string]: unknown };

/**
 * Login finds an account by the email's claim (a document keyed by the email, which FerretDB reads
 * from its index) instead of reading the whole accounts table. Accounts without a claim, written
 * before claims existed, still log in, and get their claim then.
 */
describe('auth: accounts are found by email through an email-keyed claim', () => {
  let connection: mongoose.Connection;
  let accounts: mongoose.mongo.Collection<Doc>;
  let claims: mongoose.mongo.Collection<Doc>;

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(`mongodb://127.0.0.1:${loadStackSettings().ECOM_PORT_MONGO}/auth`)
      .asPromise();
    accounts = connection.db!.collection<Doc>('accounts');
    claims = connection.db!.collection<Doc>('account_emails');
  });
  afterAll(async () => {
    await connection.close();
  });

  /** An account as an earlier version wrote it: no claim beside it. */
  async function unclaimedAccount(password: string): Promise<{ id: string; email: string }> {
    const id = randomUUID();
    const email = `unclaimed-${id}@example.com`;
    await accounts.insertOne({
      _id: id,
      email,
      name: 'Unclaimed',
      roles: ['customer'],
      passwordHash: await new Argon2PasswordHasher().hash(password),
      createdAt: new Date(),
      outbox: [],
      outboxPending: false,
    });
    return { id, email };
  }

  async function expectClaimedBy(email: string, accountId: string): Promise<void> {
    expect(await claims.findOne({ _id: email })).toEqual({ _id: email, accountId });
  }

  it('claims the email when the account is registered', async () => {
    const user = await registerUser();
    await expectClaimedBy(user.email, user.userId);
    expect((await login(user.email, user.password)).accessToken).toBeTruthy();
  });

  it('logs in an account that has no claim, and claims its email then', async () => {
    const password = 'a long enough passphrase';
    const account = await unclaimedAccount(password);
    expect(await claims.findOne({ _id: account.email })).toBeNull();

    expect((await login(account.email, password)).accessToken).toBeTruthy();
    await expectClaimedBy(account.email, account.id);
  });

  it('logs in an unclaimed account from several devices at once', async () => {
    const password = 'a passphrase for eight devices';
    const account = await unclaimedAccount(password);
    const logins = await Promise.all(Array.from({ length: 8 }, () => login(account.email, password)));
    expect(logins.every((tokens) => Boolean(tokens.accessToken))).toBe(true);
    await expectClaimedBy(account.email, account.id);
  });

  it.each([
    ['another account', async () => (await registerUser()).userId],
    ['no account', () => Promise.resolve(randomUUID())],
  ])('mends a claim that points at %s', async (_case, wrongAccountId) => {
    const password = 'the right passphrase';
    const account = await unclaimedAccount(password);
    await claims.insertOne({ _id: account.email, accountId: await wrongAccountId() });

    expect((await login(account.email, password)).accessToken).toBeTruthy();
    await expectClaimedBy(account.email, account.id);
  });
});
