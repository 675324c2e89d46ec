import { passwordProblems } from './password-policy';

describe('passwordProblems', () => {
  it.each([
    ['short', /at least 8/],
    ['x'.repeat(129), /at most 128/],
    ['Password123', /too common/],
    ['QWERTYUIOP', /too common/],
    ['aaaaaaaaaaaa', /repeat/],
    ['my-name-is-grace!', /email/],
  ])('refuses %j', (password, message) => {
    expect(passwordProblems(password, 'grace@example.com')).toEqual([
      { field: 'password', message: expect.stringMatching(message) },
    ]);
  });

  it('accepts a passphrase, counting characters not UTF-16 units', () => {
    expect(passwordProblems('correct horse battery staple', 'grace@example.com')).toEqual([]);
    expect(passwordProblems('🔑🔑🔑🔑🔐🔐🔐', 'grace@example.com')).toHaveLength(1);
    expect(passwordProblems('🔑🔑🔑🔑🔐🔐🔐🔒', 'grace@example.com')).toEqual([]);
  });
});
