import { randomUUID } from 'node:crypto';
import { servicePorts } from '../../../../stack/src/settings';

/** A JSON answer from a service, called through a Dapr sidecar like a client would. */
export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls `appId`'s `path` through auth's sidecar (any sidecar reaches any app). */
export async function call<T = Record<string, unknown>>(
  appId: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<Answer<T>> {
  const port = servicePorts('auth').daprHttp;
  const response = await fetch(
    `http://127.0.0.1:${port}/v1.0/invoke/${appId}/method/${path.replace(/^\//, '')}`,
    {
      method,
      headers: {
        ...(options.body !== undefined || options.rawBody !== undefined
          ? { 'content-type': 'application/json' }
          : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      body: options.rawBody ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined),
    },
  );
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T, headers: response.headers };
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
export async function registerUser(name = 'Test Customer'): Promise<TestUser> {
  const email = `user-${randomUUID()}@example.com`;
  const password = `pw-${randomUUID()}`;
  const answer = await call<{ userId: string }>('auth', 'POST', '/auth/register', {
    body: { email, password, name },
  });
  if (answer.status !== 201)
    throw new Error(`register failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { userId: answer.body.userId, email, password, name };
}

export async function login(email: string, password: string): Promise<TokenPair> {
  const answer = await call<TokenPair>('auth', 'POST', '/auth/login', { body: { email, password } });
  if (answer.status !== 200) throw new Error(`login failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** The seeded admin's tokens (ADMIN_EMAIL / ADMIN_PASSWORD of the local stack). */
export async function loginAdmin(): Promise<TokenPair> {
  return login(
    process.env.ADMIN_EMAIL ?? 'admin@ecom.local',
    process.env.ADMIN_PASSWORD ?? 'ecom-admin-local',
  );
}
