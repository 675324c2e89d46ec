import { AppError } from '@ecom/shared';

/** INCR, and start the window on the first increment only (a fixed window per key). */
export const FIXED_WINDOW_INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count`;

/**
 * Runs a Redis operation of a safeguard (throttle, trusted devices). They fail
 * closed: Redis down is UNAVAILABLE (503, retry in 5 s), never "no limit".
 */
export async function guardRedis<T>(what: string, operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    throw new AppError('UNAVAILABLE', `${what} is unavailable`, { cause: error, retryAfterSeconds: 5 });
  }
}
