import { randomUUID } from 'node:crypto';
import { embedOutbox, markOutbox, pendingEvent } from '@ecom/shared';
import mongoose from 'mongoose';
import { loadStackSettings } from '../../../stack/src/stack';
import { eventually } from '../../../stack/test/support/eventually';
import { call, loginAdmin } from './support/auth-client';

/**
 * The state a crash leaves behind when the process dies after the account was
 * written and before its user_registered was published: the event is still in
 * the account document, and the account's outbox mark (written before it) is
 * still there. The running relay must find it, publish it, and drop the mark.
 */
describe('auth: user_registered survives a crash between the insert and the publish', () => {
  let connection: mongoose.Connection;

  beforeAll(async () => {
    connection = await mongoose
      .createConnection(`mongodb://127.0.0.1:${loadStackSettings().ECOM_PORT_MONGO}/auth`)
      .asPromise();
  });
  afterAll(async () => {
    await connection.close();
  });

  it('publishes the event left in the account document, then empties its outbox', async () => {
    const userId = randomUUID();
    const email = `crashed-${userId}@example.com`;
    const event = pendingEvent('user_registered', {
      userId,
      email,
      name: 'Crash Survivor',
      roles: ['customer'],
    });
    const accounts = connection.db!.collection<{ _id: string; [field: string]: unknown }>('accounts');
    const marks = connection.db!.collection<{ _id: string; [field: string]: unknown }>('account_outbox');
    await markOutbox(marks, userId);
    await accounts.insertOne({
      _id: userId,
      email,
      name: 'Crash Survivor',
      roles: ['customer'],
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$invalid$invalid',
      createdAt: new Date(),
      ...embedOutbox([event]),
    });

    const admin = await loginAdmin();
    const profile = await eventually(
      () =>
        call<{ email: string; name: string }>('user', 'GET', `/users/${userId}`, {
          token: admin.accessToken,
        }),
      (a) => a.status === 200,
      { what: 'profile created from the recovered event', timeoutMs: 30_000 },
    );
    expect(profile.body).toMatchObject({ email, name: 'Crash Survivor' });
    const stored = await eventually(
      () => accounts.findOne({ _id: userId }),
      (doc) =>
        Array.isArray(doc?.outbox) && (doc.outbox as unknown[]).length === 0 && doc.outboxPending === false,
      { what: 'outbox emptied' },
    );
    expect(stored).toBeTruthy();
    await eventually(
      () => marks.findOne({ _id: userId }),
      (mark) => mark === null,
      { what: 'outbox mark dropped' },
    );
  });
});
