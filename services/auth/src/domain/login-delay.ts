/**
 * How long an account's logins wait after failures (OWASP ASVS: progressive
 * delay rather than a hard lock-out, which would let anyone who knows an email
 * lock its owner out). The first `freeFailures` cost nothing; each further
 * consecutive failure doubles the wait, up to `maxSeconds`.
 */
export interface AccountDelayPolicy {
  freeFailures: number;
  baseSeconds: number;
  maxSeconds: number;
}

/** Seconds the account waits after its `failures`-th consecutive failed login (0 below the free failures). */
export function accountDelaySeconds(failures: number, policy: AccountDelayPolicy): number {
  if (failures < policy.freeFailures) return 0;
  return Math.min(policy.maxSeconds, policy.baseSeconds * 2 ** (failures - policy.freeFailures));
}
