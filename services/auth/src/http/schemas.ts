import { z } from 'zod';
import { PASSWORD_MAX_LENGTH } from '../domain/password-policy';

/**
 * RFC 5321 bounds an address to 254 characters. The document shows the input side of a pipe (a
 * string), so the format the pipe checks is stated for it.
 */
const email = z.string().trim().max(254).pipe(z.email()).meta({ format: 'email' });

export const registerBody = z.object({
  email,
  // The policy (length in code points, common passwords) is the domain's; this only bounds the input.
  password: z
    .string()
    .min(1)
    .max(PASSWORD_MAX_LENGTH * 4),
  name: z.string().trim().min(1).max(100),
});

export const loginBody = z.object({
  email,
  password: z
    .string()
    .min(1)
    .max(PASSWORD_MAX_LENGTH * 4),
  /** The device token an earlier login answered: lets this device past the account's delay. */
  deviceToken: z.string().min(1).max(200).optional(),
});

export const refreshBody = z.object({
  refreshToken: z.string().min(1).max(200),
});
