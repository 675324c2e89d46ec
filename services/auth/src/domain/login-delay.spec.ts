import { accountDelaySeconds } from './login-delay';

describe('accountDelaySeconds', () => {
  const policy = { freeFailures: 5, baseSeconds: 1, maxSeconds: 60 };

  it('costs nothing below the free failures, then doubles up to the cap', () => {
    const delays = Array.from({ length: 14 }, (_, failures) => accountDelaySeconds(failures, policy));
    expect(delays).toEqual([0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
  });

  it('never exceeds the cap, however many failures', () => {
    expect(accountDelaySeconds(10_000, policy)).toBe(60);
  });
});
