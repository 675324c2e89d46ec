import { eventually } from './support/eventually';
import { call, login, registerUser } from './support/shop-client';

/** Reads of the customer's own data at three services that verify tokens themselves. */
const ownReads = [
  ['order', '/orders'],
  ['user', '/users/me'],
  ['notification', '/notifications'],
] as const;

describe('local stack: logout reaches every service (AUTH_SESSION_DENYLIST_URL)', () => {
  it('a logged-out access token is refused at order, user and notification at once', async () => {
    const user = await registerUser('Logout Everywhere');
    const { accessToken } = await login(user.email, user.password);
    for (const [app, path] of ownReads) {
      // The profile comes from user_registered, a moment after the registration.
      await eventually(
        () => call(app, 'GET', path, { token: accessToken }),
        (answer) => answer.status === 200,
        { what: `${app} ${path} answering the fresh token` },
      );
    }

    expect((await call('auth', 'POST', '/auth/logout', { token: accessToken })).status).toBe(204);

    for (const [app, path] of ownReads) {
      const answer = await call(app, 'GET', path, { token: accessToken });
      expect({ app, status: answer.status, detail: answer.body.detail }).toEqual({
        app,
        status: 401,
        detail: 'session has ended',
      });
    }
    // Another session of the same customer is unaffected.
    const again = await login(user.email, user.password);
    for (const [app, path] of ownReads) {
      expect((await call(app, 'GET', path, { token: again.accessToken })).status).toBe(200);
    }
  });
});
