import { authConfigSchema, JwtVerifier } from '@ecom/shared';
import { loadStackSettings } from '../../../stack/src/stack';
import { call, login, registerUser, type TokenPair } from './support/auth-client';

/** A verifier configured as any other service's is, from the same settings. */
function verifierOf(withDenylist: boolean): JwtVerifier {
  const env = {
    // The JWKS is public: read it through the edge, as anyone can.
    AUTH_JWKS_URL: `http://127.0.0.1:${loadStackSettings().ECOM_PORT_EDGE}/v1.0/invoke/auth/method/.well-known/jwks.json`,
    ...(withDenylist
      ? { AUTH_SESSION_DENYLIST_URL: `redis://127.0.0.1:${loadStackSettings().ECOM_PORT_REDIS}` }
      : {}),
  };
  return JwtVerifier.fromConfig(authConfigSchema.parse(env));
}

describe('auth: logout and revocation reach every service through the session denylist', () => {
  const guarded = verifierOf(true);
  const stateless = verifierOf(false);

  afterAll(async () => {
    await guarded.close();
  });

  it('a logged-out access token is refused at once by a verifier that reads the denylist', async () => {
    const user = await registerUser();
    const { accessToken } = await login(user.email, user.password);
    await expect(guarded.verify(accessToken)).resolves.toMatchObject({ userId: user.userId });

    expect((await call('auth', 'POST', '/auth/logout', { token: accessToken })).status).toBe(204);
    await expect(guarded.verify(accessToken)).rejects.toMatchObject({
      kind: 'UNAUTHORIZED',
      message: 'session has ended',
    });
    // Without the denylist the token lives until it expires: the documented bound (ACCESS_TOKEN_TTL_S).
    await expect(stateless.verify(accessToken)).resolves.toMatchObject({ userId: user.userId });
  });

  it('a replayed refresh token ends the family, and its access tokens with it', async () => {
    const user = await registerUser();
    const first = await login(user.email, user.password);
    const refreshed = await call<TokenPair>('auth', 'POST', '/auth/refresh', {
      body: { refreshToken: first.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    await expect(guarded.verify(refreshed.body.accessToken)).resolves.toMatchObject({ userId: user.userId });

    const replay = await call('auth', 'POST', '/auth/refresh', {
      body: { refreshToken: first.refreshToken },
    });
    expect(replay.status).toBe(401);
    for (const token of [first.accessToken, refreshed.body.accessToken]) {
      await expect(guarded.verify(token)).rejects.toMatchObject({ kind: 'UNAUTHORIZED' });
    }
    // Another login of the same user is another session, unaffected.
    const other = await login(user.email, user.password);
    await expect(guarded.verify(other.accessToken)).resolves.toMatchObject({ userId: user.userId });
  });
});
