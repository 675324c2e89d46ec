import * as shop from '../../../../stack/test/support/shop-client';

export { type Answer, type TestUser, type TokenPair } from '../../../../stack/test/support/shop-client';

/** Calls `appId`'s `path` through the public edge, as a client does. */
export function call<T = Record<string, unknown>>(
  appId: string,
  method: string,
  path: string,
  options: Omit<shop.CallOptions, 'via'> = {},
): Promise<shop.Answer<T>> {
  return shop.call<T>(appId, method, path, options);
}

export const registerUser = (name?: string) => shop.registerUser(name);
export const login = (email: string, password: string) => shop.login(email, password);
export const loginAdmin = () => shop.loginAdmin();
