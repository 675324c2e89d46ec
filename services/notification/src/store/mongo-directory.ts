import { driverCollection, isDuplicateKey } from '@ecom/shared';
import { Schema, type Connection, type Model, type mongo } from 'mongoose';
import type { Directory, Recipient } from '../domain/ports';

interface RecipientDocument {
  _id: string;
  email: string;
  name: string;
  phone?: string;
}

interface OrderCustomerDocument {
  _id: string;
  customerId: string;
}

const recipientSchema = new Schema<RecipientDocument>(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true },
    name: String,
    phone: String,
  },
  { versionKey: false, collection: 'recipients' },
);

const orderCustomerSchema = new Schema<OrderCustomerDocument>(
  { _id: { type: String, required: true }, customerId: { type: String, required: true } },
  { versionKey: false, collection: 'order_customers' },
);

/** How many recipients one process keeps in memory (a few hundred bytes each). */
const KNOWN_RECIPIENTS = 10_000;

/** Who to reach for a user or an order, learnt from events; writes keyed by the natural id are idempotent. */
export class MongoDirectory implements Directory {
  readonly recipients: Model<RecipientDocument>;
  readonly orders: Model<OrderCustomerDocument>;
  /**
   * Recipients already read or saved, oldest first. A recipient is written once, from its
   * user_registered event (no event changes one), so a copy never goes stale: every mail to a known
   * customer skips a read.
   */
  private readonly known = new Map<string, Recipient>();
  /** The driver's collections, as the notification store uses them: no mongoose casting per event. */
  private readonly recipientDocs: mongo.Collection<RecipientDocument>;
  private readonly orderDocs: mongo.Collection<OrderCustomerDocument>;

  constructor(connection: Connection) {
    this.recipients = connection.model<RecipientDocument>('Recipient', recipientSchema);
    this.orders = connection.model<OrderCustomerDocument>('OrderCustomer', orderCustomerSchema);
    this.recipientDocs = driverCollection(this.recipients);
    this.orderDocs = driverCollection(this.orders);
  }

  async saveRecipient(recipient: Recipient): Promise<void> {
    await this.recipientDocs.updateOne(
      { _id: recipient.userId },
      {
        $set: {
          email: recipient.email,
          name: recipient.name,
          ...(recipient.phone ? { phone: recipient.phone } : {}),
        },
      },
      { upsert: true },
    );
    this.remember(recipient);
  }

  async findRecipient(userId: string): Promise<Recipient | undefined> {
    const known = this.known.get(userId);
    if (known) return known;
    const doc = await this.recipientDocs.findOne({ _id: userId });
    if (!doc) return undefined;
    const recipient = {
      userId: doc._id,
      email: doc.email,
      name: doc.name,
      ...(doc.phone ? { phone: doc.phone } : {}),
    };
    this.remember(recipient);
    return recipient;
  }

  private remember(recipient: Recipient): void {
    this.known.delete(recipient.userId);
    this.known.set(recipient.userId, recipient);
    const oldest = this.known.keys().next();
    if (this.known.size > KNOWN_RECIPIENTS && !oldest.done) this.known.delete(oldest.value);
  }

  /**
   * An order's customer never changes, so the first event that names it writes it and any later one
   * finds it there: one insert, where an upsert costs FerretDB a read before its write.
   */
  async saveOrderCustomer(orderId: string, customerId: string): Promise<void> {
    try {
      await this.orderDocs.insertOne({ _id: orderId, customerId });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  async findOrderCustomer(orderId: string): Promise<string | undefined> {
    const doc = await this.orderDocs.findOne({ _id: orderId });
    return doc?.customerId;
  }
}
