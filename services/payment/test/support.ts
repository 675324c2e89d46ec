import { randomUUID } from 'node:crypto';
import type { EventName } from '@ecom/shared';
import { startEventObserver } from '../../../stack/test/support/event-observer';
import { exactly } from '../../../stack/test/support/eventually';
import { stateStoreOf } from '../../../stack/test/support/publish-as';
import type { TestApp } from '../../../stack/test/support/test-app';
import { PaymentService } from '../src/domain/payment-service';
import { TestTokenProvider } from '../src/provider/test-token-provider';
import { DaprPaymentStore } from '../src/store/dapr-payment-store';

/** Payment's use cases over its real store, through payment's own sidecar (as the service runs them). */
export function paymentsOverState(): PaymentService {
  const ids = { newId: () => randomUUID() };
  return new PaymentService({
    store: new DaprPaymentStore(stateStoreOf('payment')),
    provider: new TestTokenProvider(ids),
    clock: { now: () => new Date() },
    ids,
  });
}

/** The order's ledger as payment's state store holds it. */
export async function ledgerOf(orderId: string) {
  return (await new DaprPaymentStore(stateStoreOf('payment')).read(orderId)).ledger;
}

const paymentEvents = [
  'payment_success',
  'payment_failed',
  'payment_refunded',
] as const satisfies EventName[];

/** Watches payment's events as a consumer does, through a sidecar of its own and Kafka. */
export async function watchPaymentEvents(): Promise<{
  probe: TestApp;
  /** The topics of the order's events once `count` arrived and no other followed for a while, sorted. */
  settledTopics: (orderId: string, count: number) => Promise<string[]>;
}> {
  const received: { topic: string; orderId: string }[] = [];
  const probe = await startEventObserver('payment-events-probe', paymentEvents, (topic, event) => {
    received.push({ topic, orderId: event.orderId });
  });
  const topicsOf = async (orderId: string) =>
    received
      .filter((e) => e.orderId === orderId)
      .map((e) => e.topic)
      .sort();
  return {
    probe,
    // Dapr's outbox forwards about 1 s after a commit: watch past it for one more.
    settledTopics: (orderId, count) =>
      exactly(() => topicsOf(orderId), count, { quietMs: 4_000, what: `event(s) of order ${orderId}` }),
  };
}
