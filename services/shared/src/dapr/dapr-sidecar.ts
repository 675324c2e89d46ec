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

/** One operation of a Dapr state transaction (`/v1.0/state/<store>/transaction`). */
export interface StateOperation {
  operation: 'upsert' | 'delete';
  request: { key: string; value?: unknown; etag?: string; metadata?: Record<string, string> };
}

/**
 * The Dapr sidecar's HTTP API, the one adapter every service uses to reach its
 * sidecar. HTTP rather than gRPC on purpose: @dapr/dapr's gRPC state
 * transactions drop per-operation metadata, which the outbox depends on.
 */
export class DaprSidecar {
  readonly baseUrl: string;

  constructor(host: string, httpPort: number) {
    this.baseUrl = `http://${host}:${httpPort}/v1.0`;
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
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await response.text();
    const body = parseJson(text);
    if (!response.ok) {
      const detail = isRecord(body) && typeof body.detail === 'string' ? body.detail : text.slice(0, 300);
      throw new AppError(
        kindOfStatus(response.status),
        `${appId} ${method} ${path}: ${detail || response.statusText}`,
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
    if (!response.ok) throw await sidecarError(`publish to ${topic}`, response);
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
    if (!response.ok) throw await sidecarError(`state transaction on ${store}`, response);
  }

  async getState<T>(store: string, key: string): Promise<T | undefined> {
    const response = await this.fetch(`${this.baseUrl}/state/${store}/${encodeURIComponent(key)}`, {
      headers: traceHeaders(),
    });
    if (response.status === 204) return undefined;
    if (!response.ok) throw await sidecarError(`get state ${key}`, response);
    return (await response.json()) as T;
  }

  /** Resolves when the sidecar answers its health endpoint (204); throws otherwise. */
  async healthz(): Promise<void> {
    const response = await this.fetch(`${this.baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
    if (response.status !== 204 && response.status !== 200) {
      throw new Error(`dapr sidecar is not healthy (${response.status})`);
    }
  }

  private async fetch(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      throw new AppError('UNAVAILABLE', `dapr sidecar unreachable at ${this.baseUrl}`, { cause: error });
    }
  }
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

async function sidecarError(what: string, response: Response): Promise<AppError> {
  const text = await response.text();
  return new AppError('UNAVAILABLE', `dapr ${what} failed (${response.status}): ${text.slice(0, 300)}`);
}
