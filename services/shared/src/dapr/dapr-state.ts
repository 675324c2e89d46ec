import {
  CommunicationProtocolEnum,
  DaprClient,
  LogLevel,
  StateConcurrencyEnum,
  StateConsistencyEnum,
} from '@dapr/dapr';
import type { EventName, EventPayload } from '../events/catalogue';
import { traceHeaders } from '../logging/request-context';
import { outboxStoreName, outboxEventsOf, type DaprStateApp } from './outbox-stores';
import type { DaprSidecar, StateOperation } from './dapr-sidecar';

/** A stored value and the ETag it was read with (state.postgresql's row version). */
export interface Versioned<T> {
  value: T;
  etag: string;
}

/**
 * How a write is guarded: `create` succeeds only where the key holds nothing (first-write), `etag`
 * only where the key still holds the version that was read. Neither relies on a prior read.
 */
export type WriteGuard = { create: true } | { etag: string };

/** A Dapr state query (the JSON of `/v1.0-alpha1/state/<store>/query`). */
export interface StateQuery {
  filter?: Record<string, unknown>;
  sort?: { key: string; order?: 'ASC' | 'DESC' }[];
  page?: { limit: number; token?: string };
}

const ignore = (): void => undefined;
const silentSdkLog = { error: ignore, warn: ignore, info: ignore, verbose: ignore, debug: ignore };

/** The settings a service reaches its sidecar with. */
export interface SidecarSettings {
  DAPR_HOST: string;
  DAPR_HTTP_PORT: number;
  DAPR_API_TOKEN?: string;
}

/**
 * One app's aggregates in its Dapr state stores (state.postgresql v1, one component per event it
 * publishes, all over one table: see outbox-stores.ts). Every write that changes an aggregate
 * carries the event it causes, and Dapr's transactional outbox publishes that event if and only if
 * the write commits.
 *
 * Reads and queries go through @dapr/dapr's DaprClient (3.18.0, HTTP). Writes go through the
 * project's DaprSidecar adapter, because the SDK's state transaction sends no per-call headers: the
 * caller's `traceparent` could not reach daprd, which stamps the trace it sees on the outbox's
 * CloudEvent, and one order's trace would break at every event. (Its gRPC transport also drops
 * per-operation metadata, which the outbox projection needs.)
 */
export class DaprStateStore {
  /** The component reads and queries go through: any of the app's, they share one table. */
  private readonly readStore: string;

  constructor(
    private readonly app: DaprStateApp,
    private readonly sidecar: DaprSidecar,
    private readonly client: DaprClient,
  ) {
    const [first] = outboxEventsOf(app);
    if (first === undefined) throw new Error(`${app} publishes no event through an outbox`);
    this.readStore = outboxStoreName(first);
  }

  static of(app: DaprStateApp, sidecar: DaprSidecar, settings: SidecarSettings): DaprStateStore {
    const client = new DaprClient({
      daprHost: settings.DAPR_HOST,
      daprPort: String(settings.DAPR_HTTP_PORT),
      communicationProtocol: CommunicationProtocolEnum.HTTP,
      ...(settings.DAPR_API_TOKEN === undefined ? {} : { daprApiToken: settings.DAPR_API_TOKEN }),
      // The SDK logs every failed save at ERROR, also a lost ETag race this store expects and
      // settles; failures that matter reach the caller as errors.
      logger: { level: LogLevel.Error, service: silentSdkLog },
    });
    return new DaprStateStore(app, sidecar, client);
  }

  /** The value under `key` with its ETag; undefined when the key holds nothing. */
  async get<T>(key: string): Promise<Versioned<T> | undefined> {
    // The SDK's `state.get` returns the value without its ETag; the bulk read returns both.
    const [item] = (await this.client.state.getBulk(this.readStore, [key])) as {
      data?: T;
      etag?: string;
    }[];
    if (item?.data === undefined || item.data === null || item.etag === undefined) return undefined;
    return { value: item.data, etag: item.etag };
  }

  /** Runs a state query over the app's table; values only (the outbox's own marker rows are never matched by a filter on a field). */
  async query<T>(query: StateQuery): Promise<{ items: Versioned<T>[]; token?: string }> {
    const answer = (await this.client.state.query(this.readStore, query as never)) as {
      results?: { data: T; etag?: string }[];
      token?: string;
    };
    const items = (answer.results ?? []).map((r) => ({ value: r.data, etag: r.etag ?? '' }));
    return answer.token === undefined ? { items } : { items, token: answer.token };
  }

  /**
   * Writes `value` under `key` without an event (a plain save: Dapr's outbox only acts on state
   * transactions); 'conflict' when the guard failed and nothing was written.
   */
  async put(key: string, value: unknown, guard: WriteGuard): Promise<'written' | 'conflict'> {
    const saved = await this.client.state.save(this.readStore, [
      {
        key,
        value,
        ...('etag' in guard ? { etag: guard.etag } : {}),
        options: {
          concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE,
          consistency: StateConsistencyEnum.CONSISTENCY_STRONG,
        },
      },
    ]);
    // The SDK answers a failed save with `{ error }` rather than throwing.
    if (saved.error === undefined) return 'written';
    return this.settle(key, guard, saved.error);
  }

  /**
   * Writes `value` under `key` and publishes `event` with it, in one state transaction through the
   * event's outbox component; 'conflict' when the guard failed (the key was created or changed
   * since it was read), in which case nothing was written and nothing is published.
   */
  async write<K extends EventName>(
    key: string,
    value: unknown,
    guard: WriteGuard,
    event: { name: K; payload: EventPayload<K> },
  ): Promise<'written' | 'conflict'> {
    const json = { contentType: 'application/json' };
    const operations: StateOperation[] = [
      {
        operation: 'upsert',
        request: {
          key,
          value,
          ...('etag' in guard ? { etag: guard.etag } : { options: { concurrency: 'first-write' } }),
          // daprd copies this operation's metadata onto the outbox's CloudEvent, whose own
          // `traceparent` dapr 1.18.1 leaves empty: the caller's trace context rides along here.
          metadata: { ...json, ...traceHeaders() },
        },
      },
      // The projection replaces what the outbox publishes for this key: the event, not the aggregate.
      // It must be the transaction's last operation: dapr 1.18.1 removes projections from the list
      // while ranging over it, and an operation right after one would be skipped.
      {
        operation: 'upsert',
        request: { key, value: event.payload, metadata: { ...json, 'outbox.projection': 'true' } },
      },
    ];
    try {
      await this.sidecar.stateTransaction(outboxStoreName(event.name), operations);
      return 'written';
    } catch (error) {
      return this.settle(key, guard, error);
    }
  }

  /**
   * After a failed write: 'conflict' when its guard was lost, else the failure itself. state.postgresql
   * answers a failed guard like any other failed write, so tell them apart by what the key holds now.
   */
  private async settle(key: string, guard: WriteGuard, error: unknown): Promise<'conflict'> {
    const now = await this.get(key);
    const lost = 'etag' in guard ? now?.etag !== guard.etag : now !== undefined;
    if (lost) return 'conflict';
    throw error instanceof Error ? error : new Error(`dapr state write of ${key} failed: ${String(error)}`);
  }
}
