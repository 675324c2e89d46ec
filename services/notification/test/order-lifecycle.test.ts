import { randomUUID } from 'node:crypto';
import { buildEvent, type EventName, type EventPayload } from '@ecom/shared';
import { publishAsOwner } from '../../../stack/test/support/publish-as';
import { consistently, eventually } from '../../../stack/test/support/eventually';
import { mailTo } from '../../../stack/test/support/mail-sink';
import { call, login, loginAdmin, registerUser, type TestUser } from '../../auth/test/support/auth-client';

interface NotificationView {
  id: string;
  eventType: string;
  channel: string;
  status: string;
  attempts: number;
  recipient: string;
  subject: string;
  orderId?: string;
  providerResponse?: string;
  lastError?: string;
}

async function historyOf(token: string, query = ''): Promise<NotificationView[]> {
  const answer = await call<{ items: NotificationView[] }>(
    'notification',
    'GET',
    `/notifications?limit=100${query}`,
    { token },
  );
  if (answer.status !== 200) throw new Error(`GET /notifications: ${answer.status}`);
  return answer.body.items;
}

describe('notification: an order lifecycle leaves its history and its emails, once each under duplicate delivery', () => {
  let user: TestUser;
  let token: string;

  /** Publishes the event twice: Kafka delivering it twice must have one effect. */
  async function publishTwice<K extends EventName>(name: K, payload: EventPayload<K>): Promise<void> {
    await publishAsOwner(name, payload);
    await publishAsOwner(name, payload);
  }

  beforeAll(async () => {
    user = await registerUser('Notified Customer');
    token = (await login(user.email, user.password)).accessToken;
  });

  it('sends the welcome email for user_registered exactly once', async () => {
    await eventually(
      () => mailTo(user.email),
      (m) => m.length === 1,
      { what: 'welcome email' },
    );
    const [welcome] = await mailTo(user.email);
    expect(welcome!.subject).toBe('Welcome to ecom-micro, Notified Customer');
    const history = await eventually(
      () => historyOf(token),
      (h) => h.some((n) => n.eventType === 'user_registered' && n.status === 'sent'),
    );
    expect(history.find((n) => n.eventType === 'user_registered')).toMatchObject({
      channel: 'email',
      recipient: user.email,
      attempts: 1,
    });
  });

  it('a paid order and a cancelled order: one notification and one email per event, despite each event arriving twice', async () => {
    const paidOrder = randomUUID();
    const cancelledOrder = randomUUID();
    const deadline = new Date(Date.now() + 60_000).toISOString();
    const created = (orderId: string, total: number) =>
      buildEvent('order_created', {
        orderId,
        customerId: user.userId,
        items: [{ sku: 'SKU-1', quantity: 1, unitPrice: total }],
        total,
        currency: 'EUR',
        paymentToken: 'tok_visa',
        deadline,
      });
    await publishTwice('order_created', created(paidOrder, 4999));
    await publishTwice('order_created', created(cancelledOrder, 1250));
    // No mail of its own: the order_paid mail is the customer's receipt.
    await publishTwice(
      'payment_success',
      buildEvent('payment_success', {
        orderId: paidOrder,
        paymentId: randomUUID(),
        amount: 4999,
        currency: 'EUR',
      }),
    );
    await publishTwice(
      'order_paid',
      buildEvent('order_paid', { orderId: paidOrder, customerId: user.userId, total: 4999, currency: 'EUR' }),
    );
    await publishTwice(
      'payment_failed',
      buildEvent('payment_failed', { orderId: cancelledOrder, code: 'declined', reason: 'card declined' }),
    );
    await publishTwice(
      'order_cancelled',
      buildEvent('order_cancelled', {
        orderId: cancelledOrder,
        customerId: user.userId,
        reason: 'payment declined',
      }),
    );

    const expectedSubjects = [
      'Welcome to ecom-micro, Notified Customer',
      `We received your order ${paidOrder}`,
      `We received your order ${cancelledOrder}`,
      `Your order ${paidOrder} is confirmed`,
      `Payment failed for order ${cancelledOrder}`,
      `Your order ${cancelledOrder} was cancelled`,
    ].sort();

    await eventually(
      () => mailTo(user.email),
      (m) => m.length >= expectedSubjects.length,
      { what: 'all lifecycle emails', timeoutMs: 60_000 },
    );
    // Nothing more arrives: each (event, channel) was sent once although each event came twice.
    await consistently(
      () => mailTo(user.email),
      (m) => m.length === expectedSubjects.length,
      { durationMs: 3_000, what: 'no duplicate email' },
    );
    const mails = await mailTo(user.email);
    expect(mails.map((m) => m.subject).sort()).toEqual(expectedSubjects);
    expect(
      mails.find((m) => m.subject.startsWith('Your order') && m.subject.endsWith('is confirmed'))!.text,
    ).toContain('we received your payment of €49.99');
    expect(mails.find((m) => m.subject.endsWith('was cancelled'))!.text).toContain('payment declined');

    const history = await eventually(
      () => historyOf(token),
      (h) => h.length === expectedSubjects.length && h.every((n) => n.status === 'sent'),
    );
    expect(history.map((n) => n.subject).sort()).toEqual(expectedSubjects);
    for (const n of history) {
      expect(n).toMatchObject({ channel: 'email', recipient: user.email, status: 'sent', attempts: 1 });
      expect(n.providerResponse).toMatch(/^250/);
    }
    expect(
      history
        .filter((n) => n.orderId === paidOrder)
        .map((n) => n.eventType)
        .sort(),
    ).toEqual(['order_created', 'order_paid']);
  });

  it('records a message it cannot deliver (no SMS provider configured) as failed, with the reason', async () => {
    const event = buildEvent('notification_send', {
      userId: user.userId,
      channel: 'sms',
      template: 'custom',
      data: { subject: 'Hi', text: 'Hello by SMS', phone: '+4915112345678' },
    });
    await publishTwice('notification_send', event);
    const history = await eventually(
      () => historyOf(token, '&status=failed'),
      (h) => h.some((n) => n.id === `${event.eventId}:sms`),
    );
    const sms = history.find((n) => n.id === `${event.eventId}:sms`)!;
    expect(sms).toMatchObject({ channel: 'sms', recipient: '+4915112345678', status: 'failed' });
    expect(sms.lastError).toMatch(/no sms provider/);
  });

  it('shows customers only their own history; an admin filters by user and status', async () => {
    const other = await registerUser('Someone Else');
    const otherToken = (await login(other.email, other.password)).accessToken;
    await eventually(
      () => historyOf(otherToken),
      (h) => h.length === 1,
    );
    expect((await historyOf(otherToken)).every((n) => n.recipient === other.email)).toBe(true);
    expect(
      (await call('notification', 'GET', `/notifications?userId=${user.userId}`, { token: otherToken }))
        .status,
    ).toBe(403);

    const admin = (await loginAdmin()).accessToken;
    const sent = await historyOf(admin, `&userId=${user.userId}&status=sent`);
    // The six of the lifecycle test above: welcome, two order_created, order_paid, payment_failed, order_cancelled.
    expect(sent.length).toBeGreaterThanOrEqual(6);
    expect(sent.every((n) => n.status === 'sent' && n.recipient === user.email)).toBe(true);

    const bad = await call('notification', 'GET', '/notifications?status=lost&limit=1000', { token: admin });
    expect(bad.status).toBe(400);
    expect((bad.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual(['limit', 'status']);
    expect((await call('notification', 'GET', '/notifications')).status).toBe(401);

    // Cursor pagination walks the whole history without repeats.
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call<{ items: NotificationView[]; nextCursor?: string }>(
        'notification',
        'GET',
        `/notifications?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        { token },
      );
      ids.push(...page.body.items.map((n) => n.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe((await historyOf(token)).length);
  });
});
