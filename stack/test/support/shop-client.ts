import { randomUUID } from 'node:crypto';
import { DAPR_API_TOKEN_HEADER } from '@ecom/shared';
import { sidecarTokens } from '../../src/services';
import { loadStackSettings, servicePorts, type ServiceId } from '../../src/settings';

/**
 * A client of the running shop for tests, as a customer or an admin would be: every call goes
 * through the public edge, never to an app or a service's sidecar directly. `via` instead plays a
 * service: the call goes through that service's sidecar with its Dapr API token, as the app would.
 */

/** A service's answer; a body that is not JSON comes back as `{ raw: text }`. */
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
  /** Call as this app: through its sidecar, with its Dapr API token (it is the caller Dapr reports). */
  via?: ServiceId;
}

/**
 * Where a call goes: the local stack's public edge, or ECOM_SHOP_URL (the edge of the shop in a
 * cluster, port-forwarded by the kind tests); with `via`, that app's sidecar and its token.
 */
function target(via: ServiceId | undefined): { base: string; headers: Record<string, string> } {
  if (via !== undefined)
    return {
      base: `http://127.0.0.1:${servicePorts(via).daprHttp}`,
      headers: { [DAPR_API_TOKEN_HEADER]: sidecarTokens(via).DAPR_API_TOKEN },
    };
  const shop = process.env.ECOM_SHOP_URL;
  if (shop) return { base: shop.replace(/\/+$/, ''), headers: {} };
  return { base: `http://127.0.0.1:${loadStackSettings().ECOM_PORT_EDGE}`, headers: {} };
}

export async function call<T = Record<string, unknown>>(
  appId: string,
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Answer<T>> {
  const hasBody = options.body !== undefined || options.rawBody !== undefined;
  const { base, headers } = target(options.via);
  const response = await fetch(`${base}/v1.0/invoke/${appId}/method/${path.replace(/^\//, '')}`, {
    method,
    headers: {
      ...headers,
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    body: options.rawBody ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined),
    signal: AbortSignal.timeout(30_000),
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

export function expectStatus<T>(answer: Answer<T>, status: number, what: string): T {
  if (answer.status !== status) {
    throw new Error(
      `${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body).slice(0, 400)}`,
    );
  }
  return answer.body;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
}

export interface TestUser {
  userId: string;
  email: string;
  password: string;
  name: string;
}

/** Registers a fresh customer with a unique address. */
export async function registerUser(name = 'Test Customer', via?: ServiceId): Promise<TestUser> {
  const email = `user-${randomUUID()}@example.com`;
  const password = `pw-${randomUUID()}`;
  const answer = await call<{ userId: string }>('auth', 'POST', '/auth/register', {
    body: { email, password, name },
    via,
  });
  return { userId: expectStatus(answer, 201, 'register').userId, email, password, name };
}

export async function login(email: string, password: string, via?: ServiceId): Promise<TokenPair> {
  return expectStatus(
    await call<TokenPair>('auth', 'POST', '/auth/login', { body: { email, password }, via }),
    200,
    'login',
  );
}

/** The seeded admin's tokens (ADMIN_EMAIL / ADMIN_PASSWORD of the local stack). */
export function loginAdmin(via?: ServiceId): Promise<TokenPair> {
  return login(
    process.env.ADMIN_EMAIL ?? 'admin@ecom.local',
    process.env.ADMIN_PASSWORD ?? 'ecom-admin-local',
    via,
  );
}

export interface TestCustomer {
  userId: string;
  email: string;
  token: string;
}

/** A freshly registered customer with an access token. */
export async function newCustomer(name = 'Test Customer'): Promise<TestCustomer> {
  const user = await registerUser(name);
  return {
    userId: user.userId,
    email: user.email,
    token: (await login(user.email, user.password)).accessToken,
  };
}
