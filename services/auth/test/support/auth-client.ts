import * as shop from '../../../../stack/test/support/shop-client';

export { type Answer, type TestUser, type TokenPair } from '../../../../stack/test/support/shop-client';

/** Calls `appId`'s `path` through auth's own sidecar, so auth's tests need no other service. */
export function call<T = Record<string, unknown>>(
  appId: string,
  method: string,
  path: string,
  options: Omit<shop.CallOptions, 'via'> = {},
): Promise<shop.Answer<T>> {
  return shop.call<T>(appId, method, path, { ...options, via: 'auth' });
}

export const registerUser = (name?: string) => shop.registerUser(name, 'auth');
export const login = (email: string, password: string) => shop.login(email, password, 'auth');
export const loginAdmin = () => shop.loginAdmin('auth');
