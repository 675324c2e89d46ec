import { loginAdmin } from '../../../../stack/test/support/shop-client';

export {
  call,
  newCustomer,
  type Answer,
  type CallOptions,
  type TestCustomer,
} from '../../../../stack/test/support/shop-client';

/** The local stack's admin (ADMIN_EMAIL / ADMIN_PASSWORD). */
export async function adminToken(): Promise<string> {
  return (await loginAdmin()).accessToken;
}
