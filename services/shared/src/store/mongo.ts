/** The MongoDB server's code for a write refused by a unique index (`_id` included). */
const DUPLICATE_KEY = 11000;

/** Whether a MongoDB write failed because a unique index already holds its key. */
export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === DUPLICATE_KEY;
}
