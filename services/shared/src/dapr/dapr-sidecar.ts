import { request } from 'undici';
import { AppError } from '../errors/app-error';
import { kindOfStatus } from '../errors/problem-json';
import { traceHeaders } from '../logging/request-context';

export interface InvokeOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Abort the call after this many milliseconds. */
  timeoutMs?: number;
}

export interface InvokeResult<T> {
  status: number;
  body: T;
}

/** The header a sidecar's API reads its Dapr API token from (and the one it sends the app API token in). */
export const DAPR_API_TOKEN_HEADER = 'dapr-api-token';

/** One operation of a Dapr state transaction (`/v1.0/state/<store>/transaction`). */
export interface StateOperation {
  operation: 'upsert' | 'delete';
  request: {
    key: string;
    value?: unknown;
    etag?: string;
    metadata?: Record<string, string>;
    options?: { concurrency?: 'first-write' | 'last-write' };
  };
}

/** A sidecar's whole answer, read before the call returns (each is small). */
export interface SidecarAnswer {
  status: number;
  ok: boolean;
  /** A header's value, or undefined; `name` in lower case. */
  header(name: string): string | undefined;
  body: Buffer;
  text(): string;
}

/** What every sidecar call sends besides its method, headers and body. */
interface CallInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** The whole call's deadline, answer read included (none: as long as the sidecar takes). */
  timeoutMs?: number;
}

/**
 * The Dapr sidecar's HTTP API, the one adapter every service uses to reach its
 * sidecar. HTTP rather than gRPC on purpose: @dapr/dapr's gRPC state
 * transactions drop per-operation metadata, which the outbox depends on.
 * Calls go through undici's `request`, not the global `fetch` (the same undici
 * behind WHATWG streams): about a fifth of the client CPU per call, and these
 * calls are most of what an order asks of a service (docs/benchmark-log.md,
 * "cheaper calls to the sidecar").
 */
export class DaprSidecar {
  readonly baseUrl: string;
  /** Sent on every call: the sidecar's API answers only holders of its Dapr API token. */
  private readonly tokenHeader: Record<string, string>;

  constructor(host: string, httpPort: number, apiToken?: string) {
    this.baseUrl = `http://${host}:${httpPort}/v1.0`;
    this.tokenHeader = apiToken === undefined ? {} : { [DAPR_API_TOKEN_HEADER]: apiToken };
  }

  /** The sidecar a service's settings name (DAPR_HOST, DAPR_HTTP_PORT, DAPR_API_TOKEN). */
  static of(config: { DAPR_HOST: string; DAPR_HTTP_PORT: number; DAPR_API_TOKEN?: string }): DaprSidecar {
    return new DaprSidecar(config.DAPR_HOST, config.DAPR_HTTP_PORT, config.DAPR_API_TOKEN);
  }

  /** Calls another app through service invocation; a non-2xx answer becomes an AppError keeping the callee's detail. */
  async invoke<T>(
    appId: string,
    method: string,
    path: string,
    options: InvokeOptions = {},
  ): Promise<InvokeResult<T>> {
    const url = `${this.baseUrl}/invoke/${encodeURIComponent(appId)}/method/${path.replace(/^\//, '')}`;
    const response = await this.fetch(url, {
      method,
      headers: {
        ...traceHeaders(),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      timeoutMs: options.timeoutMs ?? 10_000,
    });
    const text = response.text();
    const body = parseJson(text);
    if (!response.ok) {
      const detail = isRecord(body) && typeof body.detail === 'string' ? body.detail : text.slice(0, 300);
      throw new AppError(
        kindOfStatus(response.status),
        `${appId} ${method} ${path}: ${detail || `status ${response.status}`}`,
        {
          fields:
            isRecord(body) && Array.isArray(body.errors)
              ? (body.errors as { field: string; message: string }[])
              : [],
        },
      );
    }
    return { status: response.status, body: body as T };
  }

  /**
   * Invokes a method as a proxy does (the edge): the path with its query and the body go as given,
   * and the answer comes back as it is, whatever its status. A read (GET, HEAD) the sidecar left
   * without any answer (a pooled connection it closed just as it was reused, a sidecar restarting)
   * is sent once more within the same timeout; a write never is, as the callee may have acted on it.
   */
  async forward(
    appId: string,
    method: string,
    pathAndQuery: string,
    init: { headers: Record<string, string>; body?: Uint8Array; timeoutMs: number },
  ): Promise<SidecarAnswer> {
    const url = new URL(`${this.baseUrl}/invoke/${encodeURIComponent(appId)}/method/${pathAndQuery}`);
    // URL parsing resolves `..` and reads `\` as `/`: whatever the path, the call must still be an
    // invocation of that app, never another endpoint of the sidecar's own API.
    if (
      !url.pathname.startsWith(
        `${new URL(this.baseUrl).pathname}/invoke/${encodeURIComponent(appId)}/method/`,
      )
    ) {
      throw AppError.invalid('the path is invalid', [
        { field: 'path', message: 'leaves the invoked method' },
      ]);
    }
    const read = method === 'GET' || method === 'HEAD';
    return this.fetch(
      url.href,
      {
        method,
        headers: init.headers,
        ...(init.body !== undefined ? { body: init.body } : {}),
        timeoutMs: init.timeoutMs,
      },
      read ? 2 : 1,
    );
  }

  /** Publishes JSON data; Dapr wraps it in a CloudEvent carrying the current trace context. */
  async publish(
    pubsub: string,
    topic: string,
    data: unknown,
    metadata: Record<string, string> = {},
  ): Promise<void> {
    const query = new URLSearchParams(
      Object.entries(metadata).map(([k, v]): [string, string] => [`metadata.${k}`, v]),
    );
    const url = `${this.baseUrl}/publish/${pubsub}/${topic}${query.size > 0 ? `?${query.toString()}` : ''}`;
    const response = await this.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...traceHeaders() },
      body: JSON.stringify(data),
    });
    if (!response.ok) throw sidecarError(`publish to ${topic}`, response);
  }

  /** Runs a state transaction; with an outbox-enabled store, its upserts are published atomically. */
  async stateTransaction(
    store: string,
    operations: StateOperation[],
    metadata: Record<string, string> = {},
  ): Promise<void> {
    const response = await this.fetch(`${this.baseUrl}/state/${store}/transaction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...traceHeaders() },
      body: JSON.stringify({ operations, metadata }),
    });
    if (!response.ok) throw sidecarError(`state transaction on ${store}`, response);
  }

  async getState<T>(store: string, key: string): Promise<T | undefined> {
    const response = await this.fetch(`${this.baseUrl}/state/${store}/${encodeURIComponent(key)}`, {
      headers: traceHeaders(),
    });
    if (response.status === 204) return undefined;
    if (!response.ok) throw sidecarError(`get state ${key}`, response);
    return JSON.parse(response.text()) as T;
  }

  /** The sidecar's metadata API (components, subscriptions, connected workflow workers). */
  async metadata(): Promise<unknown> {
    const response = await this.fetch(`${this.baseUrl}/metadata`, { timeoutMs: 2_000 });
    if (!response.ok) throw sidecarError('metadata', response);
    return JSON.parse(response.text()) as unknown;
  }

  /** Resolves when the sidecar answers its health endpoint (204); throws otherwise. */
  async healthz(): Promise<void> {
    const response = await this.fetch(`${this.baseUrl}/healthz`, { timeoutMs: 2_000 });
    if (response.status !== 204 && response.status !== 200) {
      throw new Error(`dapr sidecar is not healthy (${response.status})`);
    }
  }

  /**
   * One call to the sidecar, tried up to `tries` times while no answer at all came back (refused,
   * reset or closed before the status line). A timeout or an abort ends the call, and so does an
   * answer cut short after its status line: the callee may have acted on it.
   */
  private async fetch(url: string, init: CallInit, tries = 1): Promise<SidecarAnswer> {
    // A timer cleared once the call is over, not AbortSignal.timeout: that one fires after every call,
    // answered or not, and builds a DOMException (a stack trace) each time, measured in the profiles.
    if (init.timeoutMs === undefined) return this.call(url, init, undefined, tries);
    const deadline = new AbortController();
    const timer = setTimeout(() => {
      deadline.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }, init.timeoutMs);
    try {
      return await this.call(url, init, deadline.signal, tries);
    } finally {
      clearTimeout(timer);
    }
  }

  private async call(
    url: string,
    init: CallInit,
    signal: AbortSignal | undefined,
    tries: number,
  ): Promise<SidecarAnswer> {
    for (let attempt = 1; ; attempt++) {
      let answered;
      try {
        answered = await request(url, {
          method: init.method ?? 'GET',
          headers: { ...init.headers, ...this.tokenHeader },
          ...(init.body !== undefined ? { body: init.body } : {}),
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        if (!stopped(error) && attempt < tries) continue;
        throw new AppError('UNAVAILABLE', `dapr sidecar unreachable at ${this.baseUrl}`, { cause: error });
      }
      const { statusCode, headers } = answered;
      let body: Buffer;
      try {
        body = Buffer.from(await answered.body.arrayBuffer());
      } catch (error) {
        throw new AppError('UNAVAILABLE', `dapr sidecar cut its answer short at ${this.baseUrl}`, {
          cause: error,
        });
      }
      return {
        status: statusCode,
        ok: statusCode >= 200 && statusCode < 300,
        header: (name) => {
          const value = headers[name];
          return Array.isArray(value) ? value.join(', ') : value;
        },
        body,
        text: () => body.toString('utf8'),
      };
    }
  }
}

/** Whether a sidecar call failed because its own timeout passed (the AppError any call throws says why). */
export function sidecarTimedOut(error: unknown): boolean {
  return (
    error instanceof AppError && (error.cause as { name?: unknown } | undefined)?.name === 'TimeoutError'
  );
}

/** Whether a call ended because its signal fired (a timeout or an abort), not for want of an answer. */
function stopped(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  const code = (error as { code?: unknown } | null)?.code;
  return name === 'TimeoutError' || name === 'AbortError' || code === 'UND_ERR_ABORTED';
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function sidecarError(what: string, response: SidecarAnswer): AppError {
  return new AppError(
    'UNAVAILABLE',
    `dapr ${what} failed (${response.status}): ${response.text().slice(0, 300)}`,
  );
}
