import type { Profile, ProfilePatch } from './profile';

export interface ProfileStore {
  /** Creates the profile unless one exists for the user (a redelivered event changes nothing). */
  createIfAbsent(profile: Profile): Promise<'created' | 'exists'>;
  find(userId: string): Promise<Profile | undefined>;
  /** Applies the patch; undefined when there is no such profile. */
  update(userId: string, patch: ProfilePatch, now: Date): Promise<Profile | undefined>;
  list(limit: number, after?: string): Promise<Profile[]>;
}

/**
 * The read cache in front of the store. It may fail at any time (Redis down):
 * callers treat a failure as a miss and carry on from the store.
 */
export interface ProfileCache {
  get(userId: string): Promise<Profile | undefined>;
  /** Stores a profile read from the store, unless an invalidation happened meanwhile. */
  fill(profile: Profile): Promise<void>;
  invalidate(userId: string): Promise<void>;
}

export type CacheOutcome = 'hit' | 'miss' | 'error';

/** Counts what the cache did, for the hit/miss metric. */
export interface CacheStats {
  record(outcome: CacheOutcome): void;
}

export interface Clock {
  now(): Date;
}
