import { enqueueEvent, sqlRows } from '@ecom/shared';
import type { DataSource, EntityManager } from 'typeorm';
import type {
  CommitResult,
  Line,
  ReleaseOutcome,
  Reservation,
  ReservationStatus,
  ReserveOutcome,
  Shortfall,
} from '../domain/model';
import type { ReservationStore } from '../domain/ports';

interface ReservationRecord {
  order_id: string;
  status: ReservationStatus;
  reason: string | null;
  expires_at: Date | null;
  shortfalls: Shortfall[] | null;
  created_at: Date;
  updated_at: Date;
}

/** Gives a line's held stock back to the shelf: `$1` sku, `$2` quantity, `$3` now. */
const GIVE_BACK = `UPDATE products SET available = available + $2, reserved = reserved - $2, updated_at = $3
  WHERE sku = $1`;

/**
 * Reservations in PostgreSQL. Stock moves only through conditional UPDATEs
 * (`... WHERE available >= $n`), never read-then-write, always in sku order;
 * the CHECK constraints on the counters are the last line of defence. The
 * reservation row is claimed first (INSERT ... ON CONFLICT DO NOTHING), so a
 * duplicate command waits for the first and then returns its recorded outcome.
 */
export class PgReservationStore implements ReservationStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly afterCommit: () => void = () => undefined,
  ) {}

  async reserve(orderId: string, lines: Line[], expiresAt: Date, now: Date): Promise<ReserveOutcome> {
    const outcome = await this.dataSource.transaction(async (m): Promise<ReserveOutcome> => {
      // Claimed as RESERVED at once: nobody sees the row before the commit, and a shortfall below
      // turns it FAILED in the same transaction.
      const claimed = await sqlRows(
        m,
        `INSERT INTO reservations (order_id, status, expires_at, created_at, updated_at)
         VALUES ($1, 'RESERVED', $2, $3, $3) ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
        [orderId, expiresAt, now],
      );
      if (claimed.length === 0) return this.recordedReserveOutcome(m, orderId);

      const taken: Line[] = [];
      const shortfalls: Shortfall[] = [];
      for (const line of lines) {
        const took = await sqlRows<{ sku: string }>(
          m,
          `UPDATE products SET available = available - $2, reserved = reserved + $2, updated_at = $3
           WHERE sku = $1 AND available >= $2 RETURNING sku`,
          [line.sku, line.quantity, now],
        );
        if (took.length > 0) {
          taken.push(line);
          continue;
        }
        const [left] = await sqlRows<{ available: number }>(
          m,
          'SELECT available FROM products WHERE sku = $1',
          [line.sku],
        );
        shortfalls.push({ sku: line.sku, requested: line.quantity, available: left?.available ?? 0 });
      }

      if (shortfalls.length > 0) {
        // All or nothing: give back the lines taken before recording the failure. (Not a savepoint:
        // that costs two more statements on every reserve, for a path this rare.)
        for (const line of taken) {
          await sqlRows(m, GIVE_BACK, [line.sku, line.quantity, now]);
        }
        await sqlRows(
          m,
          `UPDATE reservations SET status = 'FAILED', reason = 'insufficient_stock', shortfalls = $2::jsonb,
           expires_at = NULL, updated_at = $3 WHERE order_id = $1`,
          [orderId, JSON.stringify(shortfalls), now],
        );
        await enqueueEvent(m, 'inventory_failed', { orderId, reason: 'insufficient_stock', shortfalls });
        return { outcome: 'failed', reason: 'insufficient_stock', shortfalls };
      }

      // Every line in one statement, whatever their number.
      await sqlRows(
        m,
        `INSERT INTO reservation_lines (order_id, sku, quantity)
         SELECT $1, sku, quantity FROM unnest($2::text[], $3::int[]) AS l(sku, quantity)`,
        [orderId, lines.map((l) => l.sku), lines.map((l) => l.quantity)],
      );
      await enqueueEvent(m, 'inventory_reserved', {
        orderId,
        items: lines,
        expiresAt: expiresAt.toISOString(),
      });
      return { outcome: 'reserved', expiresAt: expiresAt.toISOString(), items: lines };
    });
    this.afterCommit();
    return outcome;
  }

  async commit(orderId: string, now: Date): Promise<CommitResult> {
    const result = await this.dataSource.transaction(async (m): Promise<CommitResult> => {
      const moved = await this.moveWithLines(
        m,
        `UPDATE reservations SET status = 'COMMITTED', updated_at = $2
         WHERE order_id = $1 AND status = 'RESERVED' AND expires_at > $2`,
        [orderId, now],
      );
      if (moved === undefined) {
        const current = await this.find(m, orderId);
        if (!current) return 'missing';
        if (current.status === 'COMMITTED') return 'committed';
        if (current.status === 'RESERVED') return 'expired';
        return current.status === 'FAILED' ? 'failed' : 'released';
      }
      for (const line of moved) {
        await sqlRows(
          m,
          `UPDATE products SET reserved = reserved - $2, sold = sold + $2, updated_at = $3 WHERE sku = $1`,
          [line.sku, line.quantity, now],
        );
      }
      await enqueueEvent(m, 'inventory_committed', { orderId });
      return 'committed';
    });
    this.afterCommit();
    return result;
  }

  async release(orderId: string, reason: string, now: Date, onlyExpiredAt?: Date): Promise<ReleaseOutcome> {
    const result = await this.dataSource.transaction(async (m): Promise<ReleaseOutcome> => {
      if (!onlyExpiredAt) {
        // A release that comes first leaves a tombstone, so a late reserve for this order holds nothing.
        const tombstone = await sqlRows(
          m,
          `INSERT INTO reservations (order_id, status, reason, created_at, updated_at)
           VALUES ($1, 'VOID', $2, $3, $3) ON CONFLICT (order_id) DO NOTHING RETURNING order_id`,
          [orderId, reason, now],
        );
        if (tombstone.length > 0) return 'not_reserved';
      }
      const moved = await this.moveWithLines(
        m,
        `UPDATE reservations SET status = 'RELEASED', reason = $2, updated_at = $3
         WHERE order_id = $1 AND status = 'RESERVED' AND ($4::timestamptz IS NULL OR expires_at <= $4)`,
        [orderId, reason, now, onlyExpiredAt ?? null],
      );
      if (moved === undefined) {
        const current = await this.find(m, orderId);
        if (current?.status === 'COMMITTED') return 'already_committed';
        return current?.status === 'RELEASED' ? 'released' : 'not_reserved';
      }
      for (const line of moved) {
        await sqlRows(m, GIVE_BACK, [line.sku, line.quantity, now]);
      }
      await enqueueEvent(m, 'inventory_released', { orderId, reason });
      return 'released';
    });
    this.afterCommit();
    return result;
  }

  async expired(now: Date, limit: number): Promise<string[]> {
    const rows = await sqlRows<{ order_id: string }>(
      this.dataSource.manager,
      `SELECT order_id FROM reservations WHERE status = 'RESERVED' AND expires_at <= $1
       ORDER BY expires_at LIMIT $2`,
      [now, limit],
    );
    return rows.map((r) => r.order_id);
  }

  async get(orderId: string): Promise<Reservation | undefined> {
    const row = await this.find(this.dataSource.manager, orderId);
    if (!row) return undefined;
    return {
      orderId: row.order_id,
      status: row.status,
      items: await this.lines(this.dataSource.manager, orderId),
      expiresAt: row.expires_at,
      reason: row.reason,
      shortfalls: row.shortfalls ?? [],
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  /**
   * What a repeated reserve command answers: the outcome recorded by the first one, with the lines
   * it holds, whatever lines the repeat asked for (the saga compares them with the order's).
   */
  private async recordedReserveOutcome(m: EntityManager, orderId: string): Promise<ReserveOutcome> {
    const row = await this.find(m, orderId);
    if (row && (row.status === 'RESERVED' || row.status === 'COMMITTED') && row.expires_at) {
      return {
        outcome: 'reserved',
        expiresAt: row.expires_at.toISOString(),
        items: await this.lines(m, orderId),
      };
    }
    if (row?.status === 'FAILED') {
      return { outcome: 'failed', reason: 'insufficient_stock', shortfalls: row.shortfalls ?? [] };
    }
    return { outcome: 'failed', reason: 'released', shortfalls: [] };
  }

  private async find(m: EntityManager, orderId: string): Promise<ReservationRecord | undefined> {
    const [row] = await sqlRows<ReservationRecord>(
      m,
      `SELECT order_id, status, reason, expires_at, shortfalls, created_at, updated_at
       FROM reservations WHERE order_id = $1`,
      [orderId],
    );
    return row;
  }

  /**
   * Runs a reservation's status move (an UPDATE of its one row) and reads its lines in the same
   * statement, in the order `lines` gives them: undefined when the move matched no row. (A moved
   * reservation always has lines; the outer join keeps one without them a move all the same.)
   */
  private async moveWithLines(
    m: EntityManager,
    update: string,
    params: unknown[],
  ): Promise<Line[] | undefined> {
    const rows = await sqlRows<{ sku: string | null; quantity: number | null }>(
      m,
      `WITH moved AS (${update} RETURNING order_id)
       SELECT l.sku, l.quantity FROM moved LEFT JOIN reservation_lines l ON l.order_id = moved.order_id
       ORDER BY l.sku COLLATE "C"`,
      params,
    );
    if (rows.length === 0) return undefined;
    return rows.flatMap((r) =>
      r.sku === null || r.quantity === null ? [] : [{ sku: r.sku, quantity: r.quantity }],
    );
  }

  /**
   * A reservation's lines in sku order: the order every stock writer locks rows in. Byte order
   * (`COLLATE "C"`), as `normaliseLines` sorts, so a repeated reserve answers exactly what the first did.
   */
  private async lines(m: EntityManager, orderId: string): Promise<Line[]> {
    return sqlRows<Line>(
      m,
      'SELECT sku, quantity FROM reservation_lines WHERE order_id = $1 ORDER BY sku COLLATE "C"',
      [orderId],
    );
  }
}
