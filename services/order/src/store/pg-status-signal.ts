import type { Logger } from '@ecom/shared';
import { Client, type Notification } from 'pg';
import type { StatusChanges, StatusWatch } from '../domain/ports';
import { StatusWaiters } from '../domain/status-waiters';

/** The NOTIFY channel of order status changes, in order's own database; the payload is the order id. */
export const ORDER_STATUS_CHANNEL = 'order_status';

/** Reconnect delays of the listening connection: doubling from the first, capped at the last. */
const RECONNECT_FIRST_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/** Runs a statement on some connection to order's database. */
export type RunQuery = (sql: string, parameters: unknown[]) => Promise<unknown>;

/** Tells every listener of order's database that the order's status changed. */
export async function notifyStatusChange(query: RunQuery, orderId: string): Promise<void> {
  await query('SELECT pg_notify($1, $2)', [ORDER_STATUS_CHANNEL, orderId]);
}

export interface PgStatusSignalOptions {
  /** Order's own database: NOTIFY reaches only listeners of the same database. */
  connectionString: string;
  /** Runs a statement on the service's pool (the announcement needs no connection of its own). */
  query: RunQuery;
  logger: Logger;
  waiters?: StatusWaiters;
}

/**
 * Status changes through PostgreSQL's LISTEN / NOTIFY: a replica that moved an order runs
 * pg_notify after the state store committed it, and every replica holds one listening connection
 * that wakes its own waits. Cheap while waiting (a map entry and a timer per wait, one idle
 * connection per replica), and correct across replicas, since the wake comes through the database
 * every replica shares. When the listening connection drops it comes back with backoff, and every
 * wait then reads its order again: an announcement made in between reached nobody.
 */
export class PgStatusSignal implements StatusChanges {
  private readonly waiters: StatusWaiters;
  private listener: Client | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private stopped = false;

  constructor(private readonly options: PgStatusSignalOptions) {
    this.waiters = options.waiters ?? new StatusWaiters();
  }

  async announce(orderId: string): Promise<void> {
    try {
      await notifyStatusChange(this.options.query, orderId);
    } catch (error) {
      this.options.logger.warn(
        { err: error, orderId },
        'status change not announced; waiters answer at their deadline',
      );
    }
  }

  watch(orderId: string): StatusWatch {
    return this.waiters.watch(orderId);
  }

  /** Starts listening; resolves once the first attempt ended (a failed one keeps retrying in the background). */
  async start(): Promise<void> {
    await this.listen();
  }

  /** Ends every wait at once (they answer with a fresh read) and closes the listening connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.waiters.close();
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
  }

  /** Ends every wait at once without closing: shutdown has begun and open requests should finish. */
  drain(): void {
    this.waiters.close();
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    // keepAlive: an idle listener behind a NAT or a dead peer is noticed, and then replaced.
    const client = new Client({
      connectionString: this.options.connectionString,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
    });
    this.listener = client;
    client.on('notification', (message: Notification) => {
      if (message.channel === ORDER_STATUS_CHANNEL && message.payload) this.waiters.wake(message.payload);
    });
    client.on('error', (error) => {
      this.lost(client, error);
    });
    client.on('end', () => {
      this.lost(client);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${ORDER_STATUS_CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.failures > 0) this.options.logger.info('listening for order status changes again');
    this.failures = 0;
    this.waiters.wakeAll();
  }

  /** The listening connection failed or ended: try again later, once per connection. */
  private lost(client: Client, error?: unknown): void {
    if (this.stopped || client !== this.listener) return;
    this.listener = undefined;
    client.end().catch(() => undefined);
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** this.failures);
    this.failures += 1;
    this.options.logger.warn(
      { err: error, retryInMs: delay },
      'lost the order status listener; waits answer at their deadline until it is back',
    );
    this.retry = setTimeout(() => {
      void this.listen();
    }, delay);
  }
}
