import { sagaConfigSchema } from './config';
import { CURRENT_SAGA_VERSION } from './domain/saga';

describe('saga configuration', () => {
  const base = {
    DATABASE_URL: 'postgres://saga@127.0.0.1:15432/saga',
    APP_PORT: '3007',
    AUTH_JWKS_URL: 'http://127.0.0.1:3507/v1.0/invoke/auth/method/.well-known/jwks.json',
  };

  it('starts new sagas at the current version unless told otherwise', () => {
    expect(sagaConfigSchema.parse(base).SAGA_START_VERSION).toBe(CURRENT_SAGA_VERSION);
    expect(sagaConfigSchema.parse({ ...base, SAGA_START_VERSION: '3' }).SAGA_START_VERSION).toBe(3);
  });

  it('refuses a start version it does not know, naming the key', () => {
    for (const value of ['6', '0', '2.5', 'five']) {
      const parsed = sagaConfigSchema.safeParse({ ...base, SAGA_START_VERSION: value });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((issue) => issue.path)).toEqual([['SAGA_START_VERSION']]);
    }
  });
});
