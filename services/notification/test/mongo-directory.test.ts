import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { loadStackSettings } from '../../../stack/src/stack';
import { MongoDirectory } from '../src/store/mongo-directory';

/** The directory on the stack's MongoDB-protocol server (FerretDB), in a database of its own. */
describe("notification's directory on FerretDB", () => {
  const database = `notification_directory_${randomUUID().slice(0, 8)}`;
  let connection: mongoose.Connection;
  let directory: MongoDirectory;

  beforeAll(async () => {
    const s = loadStackSettings();
    connection = await mongoose
      .createConnection(`mongodb://127.0.0.1:${s.ECOM_PORT_MONGO}/${database}`)
      .asPromise();
    directory = new MongoDirectory(connection);
    await Promise.all([directory.recipients.init(), directory.orders.init()]);
  });

  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it("keeps an order's customer as first learnt, however often an event names it again", async () => {
    const orderId = randomUUID();
    await expect(directory.findOrderCustomer(orderId)).resolves.toBeUndefined();
    await directory.saveOrderCustomer(orderId, 'customer-1');
    // A redelivered order_created, then order_cancelled: neither fails, and one record stays.
    await directory.saveOrderCustomer(orderId, 'customer-1');
    await directory.saveOrderCustomer(orderId, 'customer-2');
    await expect(directory.findOrderCustomer(orderId)).resolves.toBe('customer-1');
    expect(await directory.orders.countDocuments({ _id: orderId })).toBe(1);
  });

  it('saves orders told at once, each with its own customer', async () => {
    const orders = Array.from({ length: 10 }, (_, i) => ({ orderId: randomUUID(), customerId: `c-${i}` }));
    await Promise.all(
      orders.flatMap(({ orderId, customerId }) => [
        directory.saveOrderCustomer(orderId, customerId),
        directory.saveOrderCustomer(orderId, customerId),
      ]),
    );
    for (const { orderId, customerId } of orders) {
      await expect(directory.findOrderCustomer(orderId)).resolves.toBe(customerId);
    }
  });
});
