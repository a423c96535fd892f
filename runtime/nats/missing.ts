/**
 * True when the server answered that a stream or consumer does not exist (10059 / 10014) or a
 * stored message is missing. Only that answer means "absent": a timeout or a leader election
 * says nothing about whether it exists.
 */
export function isMissing(err: unknown): boolean {
  const e = err as { name?: string; code?: unknown; message?: string } | undefined;
  if (!e) return false;
  if (e.name === "StreamNotFoundError" || e.name === "ConsumerNotFoundError") return true;
  if (e.code === 10059 || e.code === 10014 || e.code === 10037 || e.code === 404) return true;
  return /stream not found|consumer not found|no message found/i.test(e.message ?? "");
}

/** Runs `fn`, turning "does not exist" into `null`; every other error is thrown. */
export async function orMissing<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}
