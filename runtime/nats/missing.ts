import { isNotFound, isTransient } from "./errors.ts";

/** Runs `fn`, turning the server's "does not exist" (stream, consumer, message) into `null`; every other error is thrown. */
export async function orMissing<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/**
 * A request the cluster did not answer: no reply within the request timeout, or a "try again"
 * code. Seen for ~3-10 s after a kill -9 (2.15.1, 3 nodes): a stream whose leader died gets no
 * answer until its group elects a new one, and every "does not exist" answer comes from the
 * JetStream meta leader, so while the meta group re-elects, asking for any missing stream or
 * consumer times out too.
 */
export type NoAnswer = Readonly<{ noAnswer: true; waitedMs: number }>;

export function isNoAnswer(v: unknown): v is NoAnswer {
  return typeof v === "object" && v !== null && (v as { noAnswer?: unknown }).noAnswer === true;
}

/** Like orMissing, and a transient failure (timeout, leader election) becomes a NoAnswer instead of an error. */
export async function orNoAnswer<T>(fn: () => Promise<T>): Promise<T | null | NoAnswer> {
  const started = Date.now();
  try {
    return await orMissing(fn);
  } catch (err) {
    if (isTransient(err)) return { noAnswer: true, waitedMs: Date.now() - started };
    throw err;
  }
}
