import { randomUUID } from 'node:crypto';
import { aggregateIdOf, deadLetterTopic, eventNames, eventSchemas } from './catalogue';
import { buildEvent } from './envelope';

const clock = {
  now: () => new Date('2026-01-02T03:04:05.000Z'),
  newId: () => '6f1c2d1e-8e5b-4a8e-9a53-3f4b2c1d0e9f',
};

describe('the event catalogue', () => {
  it('keeps the seed topic names of the design', () => {
    expect(eventNames).toEqual(
      expect.arrayContaining([
        'order_created',
        'inventory_reserved',
        'inventory_failed',
        'payment_success',
        'payment_failed',
        'order_cancelled',
        'notification_send',
      ]),
    );
    expect(deadLetterTopic('order_created')).toBe('order_created_dlq');
  });

  it('requires the envelope on every event', () => {
    for (const name of eventNames) {
      const result = eventSchemas[name].safeParse({});
      expect(result.success).toBe(false);
      const missing = result.success ? [] : result.error.issues.map((i) => i.path.join('.'));
      expect(missing).toEqual(expect.arrayContaining(['eventId', 'occurredAt', 'schemaVersion']));
    }
  });

  it('fills the envelope from the injected clock and validates the payload', () => {
    const orderId = randomUUID();
    const event = buildEvent(
      'order_cancelled',
      { orderId, customerId: 'u1', reason: 'payment_declined' },
      clock,
    );
    expect(event).toEqual({
      orderId,
      customerId: 'u1',
      reason: 'payment_declined',
      eventId: clock.newId(),
      occurredAt: '2026-01-02T03:04:05.000Z',
      schemaVersion: 1,
    });
    expect(aggregateIdOf('order_cancelled', event)).toBe(orderId);
  });

  it('refuses to build an event that does not match its schema', () => {
    expect(() =>
      buildEvent(
        'payment_success',
        { orderId: 'not-a-uuid', paymentId: randomUUID(), amount: -1, currency: 'eur' },
        clock,
      ),
    ).toThrow();
  });
});
