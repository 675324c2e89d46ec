import { randomUUID } from 'node:crypto';
import { servicePorts } from '../../../../stack/src/settings';

/** A JSON answer from a service, called through a Dapr sidecar as a client would. */
export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is (malformed JSON, oversized bodies). */
  rawBody?: string;
  token?: string;
  headers?: Record<string, string>;
}

/** Calls `appId` through the order service's sidecar (any sidecar reaches any app). */
export async function call<T = Record<string, unknown>>(
  appId: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer<T>> {
  const port = servicePorts('order').daprHttp;
  const url = `http://127.0.0.1:${port}/v1.0/invoke/${appId}/method/${path.replace(/^\//, '')}`;
  const hasBody = options.body !== undefined || options.rawBody !== undefined;
  const response = await fetch(url, {
    method,
    headers: {
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.rawBody ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined),
  });
  const text = await response.text();
  let body: unknown = {};
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = { raw: text };
    }
  }
  return { status: response.status, body: body as T, headers: response.headers };
}

export interface TestCustomer {
  userId: string;
  email: string;
  token: string;
}

async function login(email: string, password: string): Promise<string> {
  const answer = await call<{ accessToken: string }>('auth', 'POST', '/auth/login', {
    body: { email, password },
  });
  if (answer.status !== 200) throw new Error(`login failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.accessToken;
}

/** Registers a fresh customer through auth and logs them in. */
export async function newCustomer(name = 'Test Customer'): Promise<TestCustomer> {
  const email = `customer-${randomUUID()}@example.com`;
  const password = `pw-${randomUUID()}`;
  const registered = await call<{ userId: string }>('auth', 'POST', '/auth/register', {
    body: { email, password, name },
  });
  if (registered.status !== 201) {
    throw new Error(`register failed: ${registered.status} ${JSON.stringify(registered.body)}`);
  }
  return { userId: registered.body.userId, email, token: await login(email, password) };
}

/** The local stack's admin (ADMIN_EMAIL / ADMIN_PASSWORD). */
export async function adminToken(): Promise<string> {
  return login(
    process.env.ADMIN_EMAIL ?? 'admin@ecom.local',
    process.env.ADMIN_PASSWORD ?? 'ecom-admin-local',
  );
}
