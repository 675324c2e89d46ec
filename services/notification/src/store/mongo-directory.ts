import { Schema, type Connection, type Model } from 'mongoose';
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

/** Who to reach for a user or an order, learnt from events; upserts keyed by the natural id are idempotent. */
export class MongoDirectory implements Directory {
  readonly recipients: Model<RecipientDocument>;
  readonly orders: Model<OrderCustomerDocument>;

  constructor(connection: Connection) {
    this.recipients = connection.model<RecipientDocument>('Recipient', recipientSchema);
    this.orders = connection.model<OrderCustomerDocument>('OrderCustomer', orderCustomerSchema);
  }

  async saveRecipient(recipient: Recipient): Promise<void> {
    await this.recipients.updateOne(
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
  }

  async findRecipient(userId: string): Promise<Recipient | undefined> {
    const doc = await this.recipients.findById(userId).lean<RecipientDocument>();
    return doc
      ? { userId: doc._id, email: doc.email, name: doc.name, ...(doc.phone ? { phone: doc.phone } : {}) }
      : undefined;
  }

  async saveOrderCustomer(orderId: string, customerId: string): Promise<void> {
    await this.orders.updateOne({ _id: orderId }, { $set: { customerId } }, { upsert: true });
  }

  async findOrderCustomer(orderId: string): Promise<string | undefined> {
    const doc = await this.orders.findById(orderId).lean<OrderCustomerDocument>();
    return doc?.customerId;
  }
}
