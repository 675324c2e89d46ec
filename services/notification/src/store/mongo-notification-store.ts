import { driverCollection, isDuplicateKey } from '@ecom/shared';
import { Schema, type Connection, type Model, type mongo } from 'mongoose';
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

/** The write that records an attempt's outcome. */
function attemptUpdate(outcome: AttemptOutcome): mongo.UpdateFilter<NotificationDocument> {
  switch (outcome.status) {
    case 'deferred':
      return {
        $set: { nextAttemptAt: outcome.nextAttemptAt, updatedAt: new Date() },
        $inc: { attempts: -1 },
      };
    case 'sent':
      return {
        $set: {
          status: 'sent',
          sentAt: outcome.at,
          updatedAt: outcome.at,
          providerResponse: outcome.providerResponse,
        },
        $unset: { lastError: 1 },
      };
    case 'queued':
      return {
        $set: {
          nextAttemptAt: outcome.nextAttemptAt,
          updatedAt: new Date(),
          lastError: outcome.error,
          ...(outcome.providerResponse ? { providerResponse: outcome.providerResponse } : {}),
        },
      };
    case 'failed':
      return {
        $set: {
          status: 'failed',
          updatedAt: outcome.at,
          lastError: outcome.error,
          ...(outcome.providerResponse ? { providerResponse: outcome.providerResponse } : {}),
        },
      };
  }
}

export class MongoNotificationStore implements NotificationStore {
  readonly model: Model<NotificationDocument>;
  /**
   * The driver's collection, for the writes and reads of every attempt: the domain hands over whole,
   * typed values, and mongoose's casting buys nothing for them. The schema stays for its indexes and
   * the API's reads.
   */
  private readonly collection: mongo.Collection<NotificationDocument>;

  constructor(connection: Connection) {
    this.model = connection.model<NotificationDocument>('Notification', notificationSchema);
    this.collection = driverCollection(this.model);
  }

  async init(): Promise<void> {
    await this.model.init();
  }

  async insertIfAbsent(notification: Notification): Promise<'created' | 'exists'> {
    const { id, ...rest } = notification;
    try {
      // Like mongoose, the insert leaves an undefined field out (the driver alone would store null).
      await this.collection.insertOne({ _id: id, ...rest }, { ignoreUndefined: true });
      return 'created';
    } catch (error) {
      if (isDuplicateKey(error)) return 'exists';
      throw error;
    }
  }

  async dueIds(now: Date, limit: number): Promise<string[]> {
    const docs = await this.collection
      .find({ status: 'queued', nextAttemptAt: { $lte: now } }, { projection: { _id: 1 }, limit })
      .toArray();
    return docs.map((d) => d._id);
  }

  async claim(id: string, now: Date, leaseMs: number): Promise<Notification | undefined> {
    // By primary key (cheap on the MongoDB-protocol server, which sorts and ranges in memory),
    // and without a projection: FerretDB rejects one on findAndModify.
    const doc = await this.collection.findOneAndUpdate(
      { _id: id, status: 'queued', nextAttemptAt: { $lte: now } },
      { $set: { nextAttemptAt: new Date(now.getTime() + leaseMs), updatedAt: now }, $inc: { attempts: 1 } },
      { returnDocument: 'after' },
    );
    return doc ? toNotification(doc) : undefined;
  }

  async resolve(
    id: string,
    attempt: number,
    fields: Pick<Notification, 'userId' | 'recipient' | 'subject' | 'body'>,
  ): Promise<void> {
    await this.collection.updateOne(
      { _id: id, status: 'queued', attempts: attempt },
      { $set: { ...fields, awaitingContext: false, updatedAt: new Date() } },
    );
  }

  async complete(id: string, attempt: number, outcome: AttemptOutcome): Promise<void> {
    await this.collection.updateOne({ _id: id, status: 'queued', attempts: attempt }, attemptUpdate(outcome));
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
