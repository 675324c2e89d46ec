import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Version 1 of the SQL outbox and inbox tables (OutboxEntity, InboxEntity), shared by every
 * service that publishes through the SQL outbox. It adopts the databases earlier releases created
 * with typeorm's `synchronize`: the tables are created only where missing, the relay's later
 * columns are added where missing, and the first release's index gives way to the current two.
 */
export class OutboxTables1764633600000 implements MigrationInterface {
  name = 'OutboxTables1764633600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS "outbox" (
      "event_id" uuid NOT NULL, "topic" text NOT NULL, "aggregate_id" text NOT NULL, "payload" jsonb NOT NULL,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "published_at" TIMESTAMP WITH TIME ZONE,
      "attempts" integer NOT NULL DEFAULT '0', "claimed_by" text, "claimed_until" TIMESTAMP WITH TIME ZONE,
      "retry_at" TIMESTAMP WITH TIME ZONE, "last_error" text, "dead_lettered_at" TIMESTAMP WITH TIME ZONE,
      "traceparent" text, "tracestate" text,
      CONSTRAINT "outbox_pkey" PRIMARY KEY ("event_id"))`);
    for (const column of [
      '"claimed_by" text',
      '"claimed_until" TIMESTAMP WITH TIME ZONE',
      '"retry_at" TIMESTAMP WITH TIME ZONE',
      '"last_error" text',
      '"dead_lettered_at" TIMESTAMP WITH TIME ZONE',
      '"traceparent" text',
      '"tracestate" text',
    ]) {
      await q.query(`ALTER TABLE "outbox" ADD COLUMN IF NOT EXISTS ${column}`);
    }
    await q.query('DROP INDEX IF EXISTS "outbox_unpublished"');
    await q.query(`CREATE INDEX IF NOT EXISTS "outbox_open" ON "outbox" ("aggregate_id", "created_at", "event_id")
      WHERE published_at IS NULL AND dead_lettered_at IS NULL`);
    await q.query(`CREATE INDEX IF NOT EXISTS "outbox_dead_letters" ON "outbox" ("dead_lettered_at")
      WHERE dead_lettered_at IS NOT NULL`);
    await q.query(`CREATE TABLE IF NOT EXISTS "inbox" (
      "consumer" text NOT NULL, "event_id" uuid NOT NULL,
      "processed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      CONSTRAINT "inbox_pkey" PRIMARY KEY ("consumer", "event_id"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS "inbox"');
    await q.query('DROP TABLE IF EXISTS "outbox"');
  }
}
