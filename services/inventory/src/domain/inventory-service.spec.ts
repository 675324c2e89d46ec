import { InventoryService } from './inventory-service';
import type {
  CommitResult,
  Line,
  NewProduct,
  Product,
  ProductChange,
  ReleaseOutcome,
  Reservation,
  ReserveOutcome,
} from './model';
import type { ProductStore, ReservationStore } from './ports';

class MemoryProducts implements ProductStore {
  readonly rows = new Map<string, Product>();
  async list(limit: number, afterSku?: string) {
    return [...this.rows.values()]
      .sort((a, b) => (a.sku < b.sku ? -1 : 1))
      .filter((p) => afterSku === undefined || p.sku > afterSku)
      .slice(0, limit);
  }
  async get(sku: string) {
    return this.rows.get(sku);
  }
  async create(p: NewProduct, now: Date) {
    if (this.rows.has(p.sku)) return undefined;
    const product = { ...p, available: p.stock, reserved: 0, sold: 0, createdAt: now, updatedAt: now };
    this.rows.set(p.sku, product);
    return product;
  }
  async update(sku: string, change: ProductChange) {
    const p = this.rows.get(sku);
    if (!p) return 'missing' as const;
    const available = change.stock ?? p.available + (change.stockDelta ?? 0);
    if (available < 0) return 'negative_stock' as const;
    Object.assign(p, { ...change, available });
    return p;
  }
  async prices(skus: string[]) {
    return skus.flatMap((sku) => {
      const p = this.rows.get(sku);
      return p ? [{ sku, name: p.name, unitPrice: p.price, currency: p.currency }] : [];
    });
  }
  async seedIfEmpty(products: NewProduct[], now: Date) {
    if (this.rows.size > 0) return 0;
    for (const p of products) await this.create(p, now);
    return products.length;
  }
}

/** Records the calls; the reservation semantics themselves are tested against PostgreSQL. */
class RecordingReservations implements ReservationStore {
  readonly calls: unknown[][] = [];
  commitResult: CommitResult = 'committed';
  held = new Map<string, Date>();
  async reserve(orderId: string, lines: Line[], expiresAt: Date, now: Date): Promise<ReserveOutcome> {
    this.calls.push(['reserve', orderId, lines, expiresAt, now]);
    this.held.set(orderId, expiresAt);
    return { outcome: 'reserved', expiresAt: expiresAt.toISOString(), items: lines };
  }
  async commit(orderId: string) {
    this.calls.push(['commit', orderId]);
    return this.commitResult;
  }
  async release(orderId: string, reason: string, _now: Date, onlyExpiredAt?: Date): Promise<ReleaseOutcome> {
    this.calls.push(['release', orderId, reason, onlyExpiredAt]);
    return this.held.delete(orderId) ? 'released' : 'not_reserved';
  }
  async expired(now: Date) {
    return [...this.held.entries()].filter(([, at]) => at <= now).map(([id]) => id);
  }
  async get(): Promise<Reservation | undefined> {
    return undefined;
  }
}

function setup() {
  let now = new Date('2026-01-01T00:00:00Z');
  const products = new MemoryProducts();
  const reservations = new RecordingReservations();
  const service = new InventoryService({ products, reservations, clock: { now: () => now } });
  return { products, reservations, service, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

const product = (sku: string, stock = 5) => ({ sku, name: sku, price: 100, currency: 'USD', stock });

describe('InventoryService', () => {
  it('pages through products with an opaque cursor', async () => {
    const { service } = setup();
    for (const sku of ['C', 'A', 'B']) await service.createProduct(product(sku));
    const first = await service.listProducts(2);
    expect(first.items.map((p) => p.sku)).toEqual(['A', 'B']);
    const second = await service.listProducts(2, first.nextCursor ?? undefined);
    expect(second).toMatchObject({ items: [{ sku: 'C' }], nextCursor: null });
    await expect(service.listProducts(2, '%%')).rejects.toMatchObject({ kind: 'INVALID_DATA' });
  });

  it('maps store results to the error taxonomy', async () => {
    const { service } = setup();
    await service.createProduct(product('A', 1));
    await expect(service.createProduct(product('A'))).rejects.toMatchObject({ kind: 'CONFLICT' });
    await expect(service.updateProduct('A', { stockDelta: -2 })).rejects.toMatchObject({ kind: 'CONFLICT' });
    await expect(service.updateProduct('Z', { price: 1 })).rejects.toMatchObject({ kind: 'NOT_FOUND' });
    await expect(service.getProduct('Z')).rejects.toMatchObject({ kind: 'NOT_FOUND' });
  });

  it('quotes known skus and names the unknown ones', async () => {
    const { service } = setup();
    await service.createProduct(product('A'));
    await expect(
      service.quote([
        { sku: 'A', quantity: 1 },
        { sku: 'X', quantity: 1 },
      ]),
    ).resolves.toEqual({
      lines: [{ sku: 'A', name: 'A', unitPrice: 100, currency: 'USD' }],
      unknownSkus: ['X'],
    });
  });

  it('reserves merged, sorted lines until now + ttl', async () => {
    const { service, reservations } = setup();
    const outcome = await service.reserve(
      'o1',
      [
        { sku: 'B', quantity: 1 },
        { sku: 'A', quantity: 1 },
        { sku: 'B', quantity: 2 },
      ],
      30,
    );
    const merged = [
      { sku: 'A', quantity: 1 },
      { sku: 'B', quantity: 3 },
    ];
    expect(outcome).toEqual({ outcome: 'reserved', expiresAt: '2026-01-01T00:00:30.000Z', items: merged });
    expect(reservations.calls[0]?.[2]).toEqual(merged);
  });

  it('turns a commit that cannot happen into a conflict', async () => {
    const { service, reservations } = setup();
    await expect(service.commit('o1')).resolves.toEqual({ outcome: 'committed' });
    for (const result of ['missing', 'expired', 'released', 'failed'] as const) {
      reservations.commitResult = result;
      await expect(service.commit('o1')).rejects.toMatchObject({ kind: 'CONFLICT' });
    }
  });

  it('the sweeper releases only what expired, with reason expired', async () => {
    const { service, reservations, advance } = setup();
    await service.reserve('short', [{ sku: 'A', quantity: 1 }], 10);
    await service.reserve('long', [{ sku: 'A', quantity: 1 }], 100);
    advance(11_000);
    await expect(service.releaseExpired()).resolves.toBe(1);
    expect(reservations.calls.filter((c) => c[0] === 'release')).toEqual([
      ['release', 'short', 'expired', new Date('2026-01-01T00:00:11Z')],
    ]);
  });

  it('seeds the demo catalogue only into an empty catalogue', async () => {
    const { service } = setup();
    await expect(service.seed([product('A'), product('B')])).resolves.toBe(2);
    await expect(service.seed([product('C')])).resolves.toBe(0);
  });
});
