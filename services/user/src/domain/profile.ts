/** A postal address of a customer. */
export interface Address {
  label?: string;
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postalCode: string;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

/** A user's profile; the account itself (credentials, roles) lives in auth. */
export interface Profile {
  userId: string;
  email: string;
  name: string;
  /** E.164, e.g. +4915112345678; null when not given. */
  phone: string | null;
  addresses: Address[];
  roles: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** What a user may change about themselves. */
export interface ProfilePatch {
  name?: string;
  phone?: string | null;
  addresses?: Address[];
}

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; absent on the last one. */
  nextCursor?: string;
}
