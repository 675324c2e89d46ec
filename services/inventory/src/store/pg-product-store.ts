import { isCheckViolation, isOutOfRange, sqlRows } from '@ecom/shared';
import type { DataSource } from 'typeorm';
import type { NewProduct, Product, ProductChange, QuoteLine } from '../domain/model';
import type { ProductStore } from '../domain/ports';

interface ProductRecord {
  sku: string;
  name: string;
  price: number;
  currency: string;
  available: number;
  reserved: number;
  sold: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'sku, name, price, currency, available, reserved, sold, created_at, updated_at';

function toProduct(r: ProductRecord): Product {
  return {
    sku: r.sku,
    name: r.name,
    price: r.price,
    currency: r.currency,
    available: r.available,
    reserved: r.reserved,
    sold: r.sold,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export class PgProductStore implements ProductStore {
  constructor(private readonly dataSource: DataSource) {}

  async list(limit: number, afterSku?: string): Promise<Product[]> {
    const rows = await sqlRows<ProductRecord>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM products WHERE ($1::text IS NULL OR sku > $1) ORDER BY sku LIMIT $2`,
      [afterSku ?? null, limit],
    );
    return rows.map(toProduct);
  }

  async get(sku: string): Promise<Product | undefined> {
    const [row] = await sqlRows<ProductRecord>(
      this.dataSource.manager,
      `SELECT ${COLUMNS} FROM products WHERE sku = $1`,
      [sku],
    );
    return row ? toProduct(row) : undefined;
  }

  async create(p: NewProduct, now: Date): Promise<Product | undefined> {
    const [row] = await sqlRows<ProductRecord>(
      this.dataSource.manager,
      `INSERT INTO products (sku, name, price, currency, available, reserved, sold, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 0, 0, $6, $6) ON CONFLICT (sku) DO NOTHING RETURNING ${COLUMNS}`,
      [p.sku, p.name, p.price, p.currency, p.stock, now],
    );
    return row ? toProduct(row) : undefined;
  }

  async update(
    sku: string,
    c: ProductChange,
    now: Date,
  ): Promise<Product | 'missing' | 'negative_stock' | 'stock_too_large'> {
    try {
      // One conditional statement: a stock adjustment never reads then writes.
      const [row] = await sqlRows<ProductRecord>(
        this.dataSource.manager,
        `UPDATE products SET
           name = COALESCE($2, name),
           price = COALESCE($3, price),
           currency = COALESCE($4, currency),
           available = CASE WHEN $5::int IS NOT NULL THEN $5::int ELSE available + COALESCE($6::int, 0) END,
           updated_at = $7
         WHERE sku = $1 RETURNING ${COLUMNS}`,
        [
          sku,
          c.name ?? null,
          c.price ?? null,
          c.currency ?? null,
          c.stock ?? null,
          c.stockDelta ?? null,
          now,
        ],
      );
      return row ? toProduct(row) : 'missing';
    } catch (error) {
      if (isCheckViolation(error)) return 'negative_stock';
      if (isOutOfRange(error)) return 'stock_too_large';
      throw error;
    }
  }

  async prices(skus: string[]): Promise<QuoteLine[]> {
    if (skus.length === 0) return [];
    const rows = await sqlRows<{ sku: string; name: string; price: number; currency: string }>(
      this.dataSource.manager,
      'SELECT sku, name, price, currency FROM products WHERE sku = ANY($1::text[]) ORDER BY sku',
      [skus],
    );
    return rows.map((r) => ({ sku: r.sku, name: r.name, unitPrice: r.price, currency: r.currency }));
  }

  async seedIfEmpty(products: NewProduct[], now: Date): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      // Serialises concurrent first starts of several replicas.
      await manager.query('LOCK TABLE products IN SHARE ROW EXCLUSIVE MODE');
      const [count] = await sqlRows<{ n: number }>(manager, 'SELECT count(*)::int AS n FROM products');
      if (!count || count.n > 0) return 0;
      for (const p of products) {
        await manager.query(
          `INSERT INTO products (sku, name, price, currency, available, reserved, sold, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, 0, 0, $6, $6)`,
          [p.sku, p.name, p.price, p.currency, p.stock, now],
        );
      }
      return products.length;
    });
  }
}
