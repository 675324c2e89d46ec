import type { FieldProblem } from '@ecom/shared';
import { commonPasswords } from './common-passwords';

/** NIST SP 800-63B: at least 8 characters; long passphrases allowed, bounded so hashing stays cheap to refuse. */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/**
 * The problems with a chosen password, empty when it is acceptable. Length is
 * counted in code points, so an emoji is one character, not two.
 */
export function passwordProblems(password: string, email: string): FieldProblem[] {
  const length = password.match(/./gsu)?.length ?? 0;
  if (length < PASSWORD_MIN_LENGTH) {
    return [{ field: 'password', message: `must be at least ${PASSWORD_MIN_LENGTH} characters` }];
  }
  if (length > PASSWORD_MAX_LENGTH) {
    return [{ field: 'password', message: `must be at most ${PASSWORD_MAX_LENGTH} characters` }];
  }
  const lowered = password.normalize('NFKC').toLowerCase();
  if (commonPasswords.has(lowered)) {
    return [{ field: 'password', message: 'is too common; choose a less guessable password' }];
  }
  if (new Set(lowered).size === 1) {
    return [{ field: 'password', message: 'must not repeat a single character' }];
  }
  const localPart = email.split('@')[0] ?? '';
  if (localPart.length >= 4 && lowered.includes(localPart)) {
    return [{ field: 'password', message: 'must not contain the email address' }];
  }
  return [];
}
