import { defineApi } from '@ecom/shared';
import { loginBody, refreshBody, registerBody } from './schemas';

/** The auth service's public API: routed by routes.ts and documented at /openapi.json from these declarations. */
export const authApi = defineApi({
  service: 'auth',
  title: 'ecom-micro auth',
  description:
    'Credentials and sessions: registration, login (ES256 access tokens and rotating refresh tokens), ' +
    'logout, and the JWKS every service verifies tokens with.',
  operations: {
    register: {
      method: 'post',
      path: '/auth/register',
      summary: 'Create a customer account.',
      description:
        'The password must meet the policy (its problems are named like any invalid field). "This email ' +
        'already has an account" (409) is answered a few times per client and window, then throttled (429).',
      access: 'public',
      input: { body: registerBody },
      success: { status: 201, description: 'The account: `{userId, email, name, roles}`.' },
      errors: [409, 429, 503],
    },
    login: {
      method: 'post',
      path: '/auth/login',
      summary: 'Exchange email and password for tokens.',
      description:
        'Failures delay the account progressively and lock a client failing too often (429 with ' +
        'Retry-After); a device token from an earlier login lets that device past the account delay.',
      access: 'public',
      input: { body: loginBody },
      success: {
        status: 200,
        description: '`{accessToken, refreshToken, tokenType: "Bearer", expiresIn, deviceToken}`.',
        headers: { 'Cache-Control': '`no-store`' },
      },
      errors: [401, 429, 503],
    },
    refresh: {
      method: 'post',
      path: '/auth/refresh',
      summary: 'Rotate a refresh token for a new token pair.',
      description: 'A refresh token works once; presenting a used one ends its whole session.',
      access: 'public',
      input: { body: refreshBody },
      success: {
        status: 200,
        description: 'A new token pair.',
        headers: { 'Cache-Control': '`no-store`' },
      },
      errors: [401],
    },
    logout: {
      method: 'post',
      path: '/auth/logout',
      summary: "End the token's session: its tokens are refused everywhere at once.",
      access: 'user',
      input: {},
      success: { status: 204, description: 'The session has ended.' },
    },
    whoAmI: {
      method: 'get',
      path: '/auth/me',
      summary: "The account of the token's session.",
      access: 'user',
      input: {},
      success: { status: 200, description: '`{userId, email, name, roles}`.' },
    },
    jwks: {
      method: 'get',
      path: '/.well-known/jwks.json',
      summary: 'The public keys that verify access tokens (JWKS).',
      access: 'public',
      input: {},
      success: {
        status: 200,
        description: '`{keys: [...]}`: the current and recently superseded ES256 keys.',
        headers: { 'Cache-Control': '`public, max-age=300`' },
      },
    },
  },
});
