import type { CacheOutcome, ProfileCache, ProfileStore } from './ports';
import type { Profile, ProfilePatch } from './profile';
import { profileCursor, ProfileService } from './profile-service';

class MemoryStore implements ProfileStore {
  readonly rows = new Map<string, Profile>();
  reads = 0;
  async createIfAbsent(p: Profile): Promise<'created' | 'exists'> {
    if (this.rows.has(p.userId)) return 'exists';
    this.rows.set(p.userId, p);
    return 'created';
  }
  async find(id: string): Promise<Profile | undefined> {
    this.reads += 1;
    const row = this.rows.get(id);
    return row ? structuredClone(row) : undefined;
  }
  async update(id: string, patch: ProfilePatch, now: Date): Promise<Profile | undefined> {
    const row = this.rows.get(id);
    if (!row) return undefined;
    Object.assign(row, patch, { updatedAt: now });
    return structuredClone(row);
  }
  async list(limit: number, after?: string): Promise<Profile[]> {
    return [...this.rows.values()]
      .sort((a, b) => a.userId.localeCompare(b.userId))
      .filter((p) => after === undefined || p.userId > after)
      .slice(0, limit);
  }
}

class MemoryCache implements ProfileCache {
  readonly entries = new Map<string, Profile>();
  down = false;
  async get(id: string): Promise<Profile | undefined> {
    if (this.down) throw new Error('redis down');
    return this.entries.get(id);
  }
  async fill(p: Profile): Promise<void> {
    if (this.down) throw new Error('redis down');
    this.entries.set(p.userId, p);
  }
  async invalidate(id: string): Promise<void> {
    this.entries.delete(id);
  }
}

function setup() {
  const store = new MemoryStore();
  const cache = new MemoryCache();
  const outcomes: CacheOutcome[] = [];
  const errors: unknown[] = [];
  const service = new ProfileService({
    store,
    cache,
    stats: { record: (o) => outcomes.push(o) },
    clock: { now: () => new Date('2026-01-01T00:00:00Z') },
    onCacheError: (e) => errors.push(e),
  });
  return { store, cache, outcomes, errors, service };
}

const registered = { userId: 'u1', email: 'ada@example.com', name: 'Ada', roles: ['customer'] };

describe('ProfileService', () => {
  it('creates a profile once per registration', async () => {
    const t = setup();
    await expect(t.service.createFromRegistration(registered)).resolves.toBe('created');
    await t.service.update('u1', { name: 'Changed' });
    await expect(t.service.createFromRegistration(registered)).resolves.toBe('exists');
    expect(t.store.rows.get('u1')?.name).toBe('Changed');
  });

  it('reads through the cache: a miss fills it, the next read hits without the store', async () => {
    const t = setup();
    await t.service.createFromRegistration(registered);
    await t.service.get('u1');
    await t.service.get('u1');
    expect(t.outcomes).toEqual(['miss', 'hit']);
    expect(t.store.reads).toBe(1);
  });

  it('invalidates on update, so the next read returns the new value', async () => {
    const t = setup();
    await t.service.createFromRegistration(registered);
    await t.service.get('u1');
    await t.service.update('u1', { phone: '+4915112345678' });
    expect(t.cache.entries.has('u1')).toBe(false);
    await expect(t.service.get('u1')).resolves.toMatchObject({ phone: '+4915112345678' });
  });

  it('serves from the store when the cache fails, counting an error', async () => {
    const t = setup();
    await t.service.createFromRegistration(registered);
    t.cache.down = true;
    await expect(t.service.get('u1')).resolves.toMatchObject({ name: 'Ada' });
    expect(t.outcomes).toEqual(['error']);
    expect(t.errors.length).toBeGreaterThan(0);
  });

  it("answers another user's profile as not found, exactly like an unknown id, without reading it", async () => {
    const t = setup();
    await t.service.createFromRegistration(registered);
    await t.service.createFromRegistration({ ...registered, userId: 'u2' });
    const customer = { userId: 'u2', admin: false };
    const reads = t.store.reads;
    const other = await t.service.getVisibleTo(customer, 'u1').catch((e: unknown) => e);
    expect(t.store.reads).toBe(reads);
    const unknown = await t.service.getVisibleTo(customer, 'u9').catch((e: unknown) => e);
    expect(other).toMatchObject({ kind: 'NOT_FOUND', message: 'no profile for user u1' });
    expect(unknown).toMatchObject({ kind: 'NOT_FOUND', message: 'no profile for user u9' });
    await expect(t.service.getVisibleTo(customer, 'u2')).resolves.toMatchObject({ userId: 'u2' });
    await expect(t.service.getVisibleTo({ userId: 'a', admin: true }, 'u1')).resolves.toMatchObject({
      userId: 'u1',
    });
  });

  it('answers NOT_FOUND for a missing profile and pages with opaque cursors', async () => {
    const t = setup();
    await expect(t.service.get('nobody')).rejects.toMatchObject({ kind: 'NOT_FOUND' });
    for (const id of ['a', 'b', 'c']) await t.service.createFromRegistration({ ...registered, userId: id });
    const first = await t.service.list(2);
    expect(first.items.map((p) => p.userId)).toEqual(['a', 'b']);
    const second = await t.service.list(2, first.nextCursor);
    expect(second.items.map((p) => p.userId)).toEqual(['c']);
    expect(second.nextCursor).toBeUndefined();
    expect(profileCursor.decode(profileCursor.encode('x'))).toBe('x');
    expect(() => profileCursor.decode('!!')).toThrow();
  });
});
