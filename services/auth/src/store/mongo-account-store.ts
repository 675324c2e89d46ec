import { embedOutbox, OUTBOX_FIELD, OUTBOX_PENDING_FIELD, type PendingEvent } from '@ecom/shared';
import { Schema, type Connection, type Model } from 'mongoose';
import { roles, type Account, type AccountStore, type Role } from '../domain/ports';

interface AccountDocument {
  _id: string;
  email: string;
  name: string;
  roles: Role[];
  passwordHash: string;
  createdAt: Date;
  [OUTBOX_FIELD]: PendingEvent[];
  [OUTBOX_PENDING_FIELD]: boolean;
}

const accountSchema = new Schema<AccountDocument>(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    roles: { type: [String], enum: roles, required: true },
    passwordHash: { type: String, required: true },
    createdAt: { type: Date, required: true },
    [OUTBOX_FIELD]: { type: [Schema.Types.Mixed] as never, default: [] },
    [OUTBOX_PENDING_FIELD]: { type: Boolean, default: false, index: true },
  },
  { versionKey: false, collection: 'accounts' },
);

const DUPLICATE_KEY = 11000;

function toAccount(doc: AccountDocument): Account {
  return {
    id: doc._id,
    email: doc.email,
    name: doc.name,
    roles: doc.roles,
    passwordHash: doc.passwordHash,
    createdAt: doc.createdAt,
  };
}

/** Accounts in MongoDB; an account and the events its creation causes are one document write. */
export class MongoAccountStore implements AccountStore {
  readonly model: Model<AccountDocument>;

  constructor(connection: Connection) {
    this.model = connection.model<AccountDocument>('Account', accountSchema);
  }

  async init(): Promise<void> {
    await this.model.init();
  }

  async insert(account: Account, events: PendingEvent[]): Promise<'created' | 'duplicate'> {
    try {
      await this.model.collection.insertOne({
        _id: account.id,
        email: account.email,
        name: account.name,
        roles: account.roles,
        passwordHash: account.passwordHash,
        createdAt: account.createdAt,
        ...embedOutbox(events),
      } as never);
      return 'created';
    } catch (error) {
      if ((error as { code?: unknown }).code === DUPLICATE_KEY) return 'duplicate';
      throw error;
    }
  }

  async findByEmail(email: string): Promise<Account | undefined> {
    const doc = await this.model.findOne({ email }).lean<AccountDocument>();
    return doc ? toAccount(doc) : undefined;
  }

  async findById(id: string): Promise<Account | undefined> {
    const doc = await this.model.findById(id).lean<AccountDocument>();
    return doc ? toAccount(doc) : undefined;
  }

  async grantRole(id: string, role: Role): Promise<void> {
    await this.model.updateOne({ _id: id }, { $addToSet: { roles: role } });
  }
}
