import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Version 1 of inventory's tables (entities.ts): products with counters that can never go negative,
 * one reservation per order and its lines. `IF NOT EXISTS` adopts databases whose tables an earlier
 * release created with typeorm's `synchronize`.
 */
export class InventorySchema1764633600001 implements MigrationInterface {
  name = 'InventorySchema1764633600001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS "products" (
      "sku" text NOT NULL, "name" text NOT NULL, "price" integer NOT NULL, "currency" character varying(3) NOT NULL,
      "available" integer NOT NULL, "reserved" integer NOT NULL DEFAULT '0', "sold" integer NOT NULL DEFAULT '0',
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      CONSTRAINT "products_price_nonnegative" CHECK ("price" >= 0),
      CONSTRAINT "products_available_nonnegative" CHECK ("available" >= 0),
      CONSTRAINT "products_reserved_nonnegative" CHECK ("reserved" >= 0),
      CONSTRAINT "products_sold_nonnegative" CHECK ("sold" >= 0),
      CONSTRAINT "products_pkey" PRIMARY KEY ("sku"))`);
    await q.query(`CREATE TABLE IF NOT EXISTS "reservations" (
      "order_id" uuid NOT NULL, "status" character varying(16) NOT NULL, "reason" text,
      "expires_at" TIMESTAMP WITH TIME ZONE, "shortfalls" jsonb,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
      CONSTRAINT "reservations_status_known"
        CHECK ("status" IN ('PENDING', 'RESERVED', 'COMMITTED', 'RELEASED', 'FAILED', 'VOID')),
      CONSTRAINT "reservations_pkey" PRIMARY KEY ("order_id"))`);
    await q.query(`CREATE INDEX IF NOT EXISTS "reservations_held_by_expiry" ON "reservations" ("expires_at")
      WHERE "status" = 'RESERVED'`);
    await q.query(`CREATE TABLE IF NOT EXISTS "reservation_lines" (
      "order_id" uuid NOT NULL, "sku" text NOT NULL, "quantity" integer NOT NULL,
      CONSTRAINT "reservation_lines_quantity_positive" CHECK ("quantity" > 0),
      CONSTRAINT "reservation_lines_pkey" PRIMARY KEY ("order_id", "sku"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS "reservation_lines"');
    await q.query('DROP TABLE IF EXISTS "reservations"');
    await q.query('DROP TABLE IF EXISTS "products"');
  }
}

export const inventoryMigrations = [InventorySchema1764633600001];
