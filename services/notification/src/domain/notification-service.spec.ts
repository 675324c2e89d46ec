import { buildEvent } from '@ecom/shared';
import type { Notification } from './notification';
import { NotificationService } from './notification-service';
import type { Directory, NotificationStore, Recipient } from './ports';
import { formatMoney, render } from './templates';

function setup(options: { pushEnabled?: boolean } = {}) {
  let now = new Date();
  const recipients = new Map<string, Recipient>();
  const orders = new Map<string, string>();
  const rows = new Map<string, Notification>();
  const delivered: Notification[] = [];
  const rechecked: string[] = [];
  const directory: Directory = {
    saveRecipient: async (r) => void recipients.set(r.userId, r),
    findRecipient: async (id) => recipients.get(id),
    saveOrderCustomer: async (o, c) => void orders.set(o, c),
    findOrderCustomer: async (o) => orders.get(o),
  };
  const store: Pick<NotificationStore, 'insertIfAbsent'> = {
    insertIfAbsent: async (n) => {
      if (rows.has(n.id)) return 'exists';
      rows.set(n.id, n);
      return 'created';
    },
  };
  const service = new NotificationService({
    directory,
    store: store as NotificationStore,
    clock: { now: () => now },
    waitForContextMs: 60_000,
    pushEnabled: options.pushEnabled ?? false,
    queue: {
      firstLease: (at) => ({ attempts: 1, nextAttemptAt: new Date(at.getTime() + 60_000) }),
      deliver: (leased) => delivered.push(...leased),
      recheck: (ids) => rechecked.push(...ids),
    },
  });
  return {
    service,
    rows,
    delivered,
    rechecked,
    now: () => now,
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
  };
}

const userId = 'user-1';
const registered = buildEvent('user_registered', {
  userId,
  email: 'ada@example.com',
  name: 'Ada',
  roles: ['customer'],
});

describe('NotificationService', () => {
  it('queues one welcome email per user_registered, however often it arrives', async () => {
    const t = setup();
    await t.service.onUserRegistered(registered);
    await t.service.onUserRegistered(registered);
    expect([...t.rows.values()]).toEqual([
      expect.objectContaining({
        id: `${registered.eventId}:email`,
        status: 'queued',
        recipient: 'ada@example.com',
        subject: 'Welcome to ecom-micro, Ada',
      }),
    ]);
    // Stored leased to this process for its first attempt, and handed to the dispatcher once; the
    // second delivery found it stored and handed it over to be claimed after the lease (the first
    // delivery could have failed before attempting it).
    expect(t.delivered).toEqual([t.rows.get(`${registered.eventId}:email`)]);
    expect(t.rechecked).toEqual([`${registered.eventId}:email`]);
    expect(t.delivered[0]).toMatchObject({ attempts: 1 });
    expect(t.delivered[0]!.nextAttemptAt.getTime() - t.now().getTime()).toBe(60_000);
  });

  it('learns the customer from order_created for payment events, and adds push for order_paid when enabled', async () => {
    const t = setup({ pushEnabled: true });
    await t.service.onUserRegistered(registered);
    const orderId = '6f1c7f4e-6d0e-4d53-9d59-3e5b0b2f1a11';
    const payment = buildEvent('payment_failed', { orderId, code: 'declined', reason: 'card declined' });
    // The payment event overtook order_created: stored, awaiting its recipient, not refused.
    await t.service.onPaymentFailed(payment);
    const early = t.rows.get(`${payment.eventId}:email`)!;
    expect(early).toMatchObject({ status: 'queued', awaitingContext: true, userId: '', orderId });
    await expect(t.service.resolve(early)).resolves.toEqual({ outcome: 'wait' });
    await t.service.onOrderCreated(
      buildEvent('order_created', {
        orderId,
        customerId: userId,
        items: [{ sku: 'A', quantity: 1, unitPrice: 1999 }],
        total: 1999,
        currency: 'EUR',
        paymentToken: 'tok_visa',
        deadline: new Date().toISOString(),
      }),
    );
    await expect(t.service.resolve(early)).resolves.toEqual({
      outcome: 'resolved',
      fields: {
        userId,
        recipient: 'ada@example.com',
        subject: `Payment failed for order ${orderId}`,
        body: expect.stringContaining('card declined'),
      },
    });
    // A redelivery of the payment event changes nothing.
    await t.service.onPaymentFailed(payment);
    expect(t.rows.get(`${payment.eventId}:email`)).toBe(early);
    const paid = buildEvent('order_paid', { orderId, customerId: userId, total: 1999, currency: 'EUR' });
    await t.service.onOrderPaid(paid);
    expect(t.rows.get(`${paid.eventId}:push`)).toMatchObject({
      channel: 'push',
      recipient: userId,
      status: 'queued',
    });
  });

  it('never refuses an event about an unknown user; after the wait its notification fails', async () => {
    const t = setup();
    const stray = buildEvent('order_cancelled', {
      orderId: '6f1c7f4e-6d0e-4d53-9d59-3e5b0b2f1a12',
      customerId: 'ghost',
      reason: 'test',
    });
    // Never refused (that would hold up the partition): stored, awaiting its recipient.
    await t.service.onOrderCancelled(stray);
    const stored = t.rows.get(`${stray.eventId}:email`)!;
    expect(stored).toMatchObject({ status: 'queued', awaitingContext: true, userId: 'ghost' });
    await expect(t.service.resolve(stored)).resolves.toEqual({ outcome: 'wait' });
    t.advance(61_000);
    expect((await t.service.resolve(stored)).outcome).toBe('failed');
  });

  it('records an unknown template or a missing phone as failed, without retrying', async () => {
    const t = setup();
    await t.service.onUserRegistered(registered);
    const unknown = buildEvent('notification_send', { userId, channel: 'email', template: 'nope', data: {} });
    const sms = buildEvent('notification_send', {
      userId,
      channel: 'sms',
      template: 'custom',
      data: { text: 'hi' },
    });
    await t.service.onNotificationSend(unknown);
    await t.service.onNotificationSend(sms);
    await t.service.onNotificationSend(unknown);
    // Nothing to take over: a failed one is not attempted again, however often its event comes.
    expect(t.rechecked).toEqual([]);
    expect(t.rows.get(`${unknown.eventId}:email`)).toMatchObject({
      status: 'failed',
      lastError: "unknown template 'nope'",
    });
    expect(t.rows.get(`${sms.eventId}:sms`)).toMatchObject({
      status: 'failed',
      lastError: expect.stringContaining('phone'),
    });
  });
});

describe('templates', () => {
  it('fills placeholders, blanks what is missing and keeps subjects on one line', () => {
    // Values are inserted once: a placeholder inside a value is not expanded again.
    expect(render('custom', { subject: 'Hello\r\nBcc: x@evil', text: 'Body {{name}}', name: 'Ada' })).toEqual(
      {
        subject: 'Hello Bcc: x@evil',
        body: 'Body {{name}}',
      },
    );
    expect(render('payment_failed', { name: 'Ada', orderId: 'o1' })?.body).toContain('order o1: .');
    expect(render('missing', {})).toBeUndefined();
  });

  it('formats minor units by currency', () => {
    expect(formatMoney(1999, 'EUR')).toBe('€19.99');
    expect(formatMoney(500, 'JPY')).toBe('¥500');
  });
});
