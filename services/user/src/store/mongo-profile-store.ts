import { isDuplicateKey } from '@ecom/shared';
import { Schema, type Connection, type Model } from 'mongoose';
import type { ProfileStore } from '../domain/ports';
import type { Address, Profile, ProfilePatch } from '../domain/profile';

interface ProfileDocument {
  _id: string;
  email: string;
  name: string;
  phone: string | null;
  addresses: Address[];
  roles: string[];
  createdAt: Date;
  updatedAt: Date;
}

const addressSchema = new Schema<Address>(
  {
    label: String,
    line1: { type: String, required: true },
    line2: String,
    city: { type: String, required: true },
    region: String,
    postalCode: { type: String, required: true },
    country: { type: String, required: true },
  },
  { _id: false },
);

const profileSchema = new Schema<ProfileDocument>(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true },
    name: { type: String, required: true },
    phone: { type: String, default: null },
    addresses: { type: [addressSchema], default: [] },
    roles: { type: [String], default: [] },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, collection: 'profiles' },
);

function toProfile(doc: ProfileDocument): Profile {
  return {
    userId: doc._id,
    email: doc.email,
    name: doc.name,
    phone: doc.phone ?? null,
    addresses: doc.addresses.map((a) => ({ ...a })),
    roles: doc.roles,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

/** Profiles in MongoDB, keyed by the user id auth assigned (the natural key that makes creation idempotent). */
export class MongoProfileStore implements ProfileStore {
  readonly model: Model<ProfileDocument>;

  constructor(connection: Connection) {
    this.model = connection.model<ProfileDocument>('Profile', profileSchema);
  }

  async init(): Promise<void> {
    await this.model.init();
  }

  async createIfAbsent(profile: Profile): Promise<'created' | 'exists'> {
    try {
      await this.model.create({
        _id: profile.userId,
        email: profile.email,
        name: profile.name,
        phone: profile.phone,
        addresses: profile.addresses,
        roles: profile.roles,
        createdAt: profile.createdAt,
        updatedAt: profile.updatedAt,
      });
      return 'created';
    } catch (error) {
      if (isDuplicateKey(error)) return 'exists';
      throw error;
    }
  }

  async find(userId: string): Promise<Profile | undefined> {
    const doc = await this.model.findById(userId).lean<ProfileDocument>();
    return doc ? toProfile(doc) : undefined;
  }

  async update(userId: string, patch: ProfilePatch, now: Date): Promise<Profile | undefined> {
    const set: Partial<ProfileDocument> = { updatedAt: now };
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.phone !== undefined) set.phone = patch.phone;
    if (patch.addresses !== undefined) set.addresses = patch.addresses;
    const result = await this.model.updateOne({ _id: userId }, { $set: set });
    if (result.matchedCount === 0) return undefined;
    return this.find(userId);
  }

  async list(limit: number, after?: string): Promise<Profile[]> {
    const filter = after === undefined ? {} : { _id: { $gt: after } };
    const docs = await this.model.find(filter).sort({ _id: 1 }).limit(limit).lean<ProfileDocument[]>();
    return docs.map(toProfile);
  }
}
