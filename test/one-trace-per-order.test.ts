import { readFileSync } from 'node:fs';
import path from 'node:path';
import { logDir } from '../stack/src/settings';
import { eventually } from '../stack/test/support/eventually';
import { finalOrder, newCustomer, newProduct, order } from './support/shop';

interface LogLine {
  service?: string;
  orderId?: string;
  traceId?: string;
  req?: { method?: string };
  msg?: string;
}

/** The JSON log lines of the order's own work: everything about it but the client's polling reads. */
function linesAbout(orderId: string): LogLine[] {
  return ['order', 'inventory', 'payment', 'saga', 'notification'].flatMap((service) =>
    readFileSync(path.join(logDir, `${service}.log`), 'utf8')
      .split('\n')
      .filter((line) => line.includes(orderId) && line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine)
      .filter((line) => line.orderId === orderId && line.req?.method !== 'GET'),
  );
}

describe('one trace per order', () => {
  it('carries the trace of the POST that placed an order through its outbox, the saga, every participant and their events', async () => {
    const customer = await newCustomer();
    const product = await newProduct(3, 800);
    const orderId = await order(customer, [{ sku: product.sku, quantity: 1 }]);
    expect(await finalOrder(customer, orderId)).toMatchObject({ status: 'PAID' });

    // Notification logs the order_paid it handled a moment after the order reads PAID.
    const lines = await eventually(
      () => Promise.resolve(linesAbout(orderId)),
      (found) => new Set(found.map((l) => l.service)).size >= 4,
      { timeoutMs: 30_000, what: `log lines about ${orderId} from order, inventory, payment and saga` },
    );
    const traces = new Set(lines.map((l) => l.traceId));
    expect({ services: [...new Set(lines.map((l) => l.service))].sort(), traces: [...traces] }).toEqual({
      services: expect.arrayContaining(['inventory', 'order', 'payment', 'saga']),
      traces: [expect.stringMatching(/^[0-9a-f]{32}$/)],
    });
  });
});
