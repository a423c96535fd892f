import { isNotFound } from "./errors.ts";

/** Runs `fn`, turning the server's "does not exist" (stream, consumer, message) into `null`; every other error is thrown. */
export async function orMissing<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}
