import { isDuplicateKey } from '@ecom/shared';
import { Schema, type Connection, type Model } from 'mongoose';
import { channels, statuses, type Notification } from '../domain/notification';
import type { AttemptOutcome, NotificationQuery, NotificationStore } from '../domain/ports';

type NotificationDocument = Omit<Notification, 'id'> & { _id: string };

const notificationSchema = new Schema<NotificationDocument>(
  {
    _id: { type: String, required: true },
    eventId: { type: String, required: true },
    eventType: { type: String, required: true },
    // Empty when the recipient could not be learnt (the notification is then recorded failed).
    userId: { type: String, default: '', index: true },
    orderId: { type: String },
    channel: { type: String, enum: channels, required: true },
    recipient: { type: String, default: '' },
    template: { type: String, required: true },
    data: { type: Schema.Types.Mixed as never, default: {} },
    awaitingContext: { type: Boolean, default: false },
    subject: { type: String, default: '' },
    body: { type: String, default: '' },
    status: { type: String, enum: statuses, required: true, index: true },
    attempts: { type: Number, required: true },
    nextAttemptAt: { type: Date, required: true, index: true },
    providerResponse: { type: String },
    lastError: { type: String },
    createdAt: { type: Date, required: true, index: true },
    updatedAt: { type: Date, required: true },
    sentAt: { type: Date },
  },
  { versionKey: false, collection: 'notifications' },
);

function toNotification(doc: NotificationDocument): Notification {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest };
}

export class MongoNotificationStore implements NotificationStore {
  readonly model: Model<NotificationDocument>;

  constructor(connection: Connection) {
    this.model = connection.model<NotificationDocument>('Notification', notificationSchema);
  }

  async init(): Promise<void> {
    await this.model.init();
  }

  async insertIfAbsent(notification: Notification): Promise<'created' | 'exists'> {
    const { id, ...rest } = notification;
    try {
      // The driver's insert, not Model.create: the domain hands over a whole, typed notification, and
      // building and validating a mongoose document per write is CPU the store does not need. Like
      // mongoose, it leaves an undefined field out (the driver alone would store null).
      await this.model.collection.insertOne({ _id: id, ...rest } as never, { ignoreUndefined: true });
      return 'created';
    } catch (error) {
      if (isDuplicateKey(error)) return 'exists';
      throw error;
    }
  }

  async dueIds(now: Date, limit: number): Promise<string[]> {
    const docs = await this.model
      .find({ status: 'queued', nextAttemptAt: { $lte: now } }, { _id: 1 })
      .limit(limit)
      .lean<{ _id: string }[]>();
    return docs.map((d) => d._id);
  }

  async claim(id: string, now: Date, leaseMs: number): Promise<Notification | undefined> {
    // By primary key (cheap on the MongoDB-protocol server, which sorts and ranges in memory),
    // and without a projection: FerretDB rejects one on findAndModify.
    const doc = await this.model
      .findOneAndUpdate(
        { _id: id, status: 'queued', nextAttemptAt: { $lte: now } },
        { $set: { nextAttemptAt: new Date(now.getTime() + leaseMs), updatedAt: now }, $inc: { attempts: 1 } },
        { returnDocument: 'after' },
      )
      .lean<NotificationDocument>();
    return doc ? toNotification(doc) : undefined;
  }

  async resolve(
    id: string,
    attempt: number,
    fields: Pick<Notification, 'userId' | 'recipient' | 'subject' | 'body'>,
  ): Promise<void> {
    await this.model.updateOne(
      { _id: id, status: 'queued', attempts: attempt },
      { $set: { ...fields, awaitingContext: false, updatedAt: new Date() } },
    );
  }

  async complete(id: string, attempt: number, outcome: AttemptOutcome): Promise<void> {
    const filter = { _id: id, status: 'queued' as const, attempts: attempt };
    switch (outcome.status) {
      case 'deferred':
        await this.model.updateOne(filter, {
          $set: { nextAttemptAt: outcome.nextAttemptAt, updatedAt: new Date() },
          $inc: { attempts: -1 },
        });
        return;
      case 'sent':
        await this.model.updateOne(filter, {
          $set: {
            status: 'sent',
            sentAt: outcome.at,
            updatedAt: outcome.at,
            providerResponse: outcome.providerResponse,
          },
          $unset: { lastError: 1 },
        });
        return;
      case 'queued':
        await this.model.updateOne(filter, {
          $set: {
            nextAttemptAt: outcome.nextAttemptAt,
            updatedAt: new Date(),
            lastError: outcome.error,
            ...(outcome.providerResponse ? { providerResponse: outcome.providerResponse } : {}),
          },
        });
        return;
      case 'failed':
        await this.model.updateOne(filter, {
          $set: {
            status: 'failed',
            updatedAt: outcome.at,
            lastError: outcome.error,
            ...(outcome.providerResponse ? { providerResponse: outcome.providerResponse } : {}),
          },
        });
        return;
    }
  }

  async find(query: NotificationQuery): Promise<Notification[]> {
    const filter: Record<string, unknown> = {};
    if (query.userId) filter.userId = query.userId;
    if (query.status) filter.status = query.status;
    if (query.after) {
      filter.$or = [
        { createdAt: { $lt: query.after.createdAt } },
        { createdAt: query.after.createdAt, _id: { $lt: query.after.id } },
      ];
    }
    const docs = await this.model
      .find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .limit(query.limit)
      .lean<NotificationDocument[]>();
    return docs.map(toNotification);
  }

  async findById(id: string): Promise<Notification | undefined> {
    const doc = await this.model.findById(id).lean<NotificationDocument>();
    return doc ? toNotification(doc) : undefined;
  }
}
