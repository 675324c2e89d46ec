import {
  embedOutbox,
  isDuplicateKey,
  markOutbox,
  OUTBOX_FIELD,
  OUTBOX_PENDING_FIELD,
  type OutboxSource,
  type PendingEvent,
} from '@ecom/shared';
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

/**
 * Which account holds an email, keyed by the email itself. FerretDB v1 serves a filter on `_id` from
 * its index (with our patch, stack/ferretdb-build/id-pushdown.sed), but reads the whole accounts
 * table for `{email}`: every login cost grew with the number of accounts. A claim is written right
 * after its account; an account without one (written before claims existed, or by a process that
 * stopped between the two writes) is found the slow way once and given its claim then.
 */
interface EmailClaimDocument {
  _id: string;
  accountId: string;
}

const emailClaimSchema = new Schema<EmailClaimDocument>(
  { _id: { type: String, required: true }, accountId: { type: String, required: true } },
  { versionKey: false, collection: 'account_emails' },
);

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
  readonly claims: Model<EmailClaimDocument>;
  /** The accounts and the marks of those whose outbox may hold events, for the relay. */
  readonly outbox: OutboxSource;

  constructor(connection: Connection) {
    this.model = connection.model<AccountDocument>('Account', accountSchema);
    this.claims = connection.model<EmailClaimDocument>('AccountEmail', emailClaimSchema);
    this.outbox = { documents: this.model.collection, marks: connection.collection('account_outbox') };
  }

  async init(): Promise<void> {
    await Promise.all([this.model.init(), this.claims.init()]);
  }

  async insert(account: Account, events: PendingEvent[]): Promise<'created' | 'duplicate'> {
    if (events.length > 0) await markOutbox(this.outbox.marks, account.id);
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
    } catch (error) {
      if (isDuplicateKey(error)) return 'duplicate';
      throw error;
    }
    // The account stands without its claim: a failed claim write is mended at the first login.
    await this.claim(account.email, account.id).catch(() => undefined);
    return 'created';
  }

  async findByEmail(email: string): Promise<Account | undefined> {
    const claim = await this.claims.findById(email).lean<EmailClaimDocument>();
    const claimed = claim && (await this.model.findById(claim.accountId).lean<AccountDocument>());
    if (claimed && claimed.email === email) return toAccount(claimed);
    // Unclaimed: an unknown email, or an account from before claims. Emails are unique, so a claim,
    // once written, stays right.
    const doc = await this.model.findOne({ email }).lean<AccountDocument>();
    if (!doc) return undefined;
    await this.claim(email, doc._id);
    return toAccount(doc);
  }

  async findById(id: string): Promise<Account | undefined> {
    const doc = await this.model.findById(id).lean<AccountDocument>();
    return doc ? toAccount(doc) : undefined;
  }

  async grantRole(id: string, role: Role): Promise<void> {
    await this.model.updateOne({ _id: id }, { $addToSet: { roles: role } });
  }

  private async claim(email: string, accountId: string): Promise<void> {
    try {
      await this.claims.updateOne({ _id: email }, { $set: { accountId } }, { upsert: true });
    } catch (error) {
      // FerretDB v1 upserts by a look-up then an insert: of two racing writers of the same claim (two
      // logins of an unclaimed account), the second finds the first's insert and gets a duplicate key.
      // Emails are unique, so both wrote the same account's id.
      if (!isDuplicateKey(error)) throw error;
    }
  }
}
