import { AppError, cursorCodec } from '@ecom/shared';
import { z } from 'zod';
import type { CacheStats, Clock, ProfileCache, ProfileStore } from './ports';
import type { Page, Profile, ProfilePatch } from './profile';

export interface ProfileServiceDeps {
  store: ProfileStore;
  cache: ProfileCache;
  stats: CacheStats;
  clock: Clock;
  /** Called when the cache fails; the read goes on from the store. */
  onCacheError: (error: unknown) => void;
}

export interface Registered {
  userId: string;
  email: string;
  name: string;
  roles: string[];
}

/** Who asks for a profile. */
export interface Viewer {
  userId: string;
  admin: boolean;
}

function profileNotFound(userId: string): AppError {
  return AppError.notFound(`no profile for user ${userId}`);
}

/**
 * Profiles, read through a cache-aside: the cache is an optimisation, never a
 * dependency. Writes go to the store and then invalidate, so a read after the
 * write returns can only miss and read the new value.
 */
export class ProfileService {
  constructor(private readonly deps: ProfileServiceDeps) {}

  async createFromRegistration(event: Registered): Promise<'created' | 'exists'> {
    const now = this.deps.clock.now();
    return this.deps.store.createIfAbsent({
      userId: event.userId,
      email: event.email,
      name: event.name,
      phone: null,
      addresses: [],
      roles: event.roles,
      createdAt: now,
      updatedAt: now,
    });
  }

  async get(userId: string): Promise<Profile> {
    const cached = await this.fromCache(userId);
    if (cached) return cached;
    const profile = await this.deps.store.find(userId);
    if (!profile) throw profileNotFound(userId);
    await this.deps.cache.fill(profile).catch(this.deps.onCacheError);
    return profile;
  }

  /**
   * A profile as `viewer` may see it: their own, or anyone's for an admin. Another user's profile is
   * "not found", with the same answer as an unknown id and without reading it, so a customer cannot
   * tell which user ids exist.
   */
  async getVisibleTo(viewer: Viewer, userId: string): Promise<Profile> {
    if (viewer.userId !== userId && !viewer.admin) throw profileNotFound(userId);
    return this.get(userId);
  }

  async update(userId: string, patch: ProfilePatch): Promise<Profile> {
    const updated = await this.deps.store.update(userId, patch, this.deps.clock.now());
    if (!updated) throw profileNotFound(userId);
    await this.deps.cache.invalidate(userId);
    return updated;
  }

  async list(limit: number, cursor?: string): Promise<Page<Profile>> {
    const after = cursor === undefined ? undefined : profileCursor.decode(cursor);
    const items = await this.deps.store.list(limit + 1, after);
    const page = items.slice(0, limit);
    const last = page.at(-1);
    return items.length > limit && last
      ? { items: page, nextCursor: profileCursor.encode(last.userId) }
      : { items: page };
  }

  private async fromCache(userId: string): Promise<Profile | undefined> {
    try {
      const profile = await this.deps.cache.get(userId);
      this.deps.stats.record(profile ? 'hit' : 'miss');
      return profile;
    } catch (error) {
      this.deps.stats.record('error');
      this.deps.onCacheError(error);
      return undefined;
    }
  }
}

/** Opaque keyset cursor for GET /users: the last user id of the previous page. */
export const profileCursor = cursorCodec(z.string().min(1).max(100));
