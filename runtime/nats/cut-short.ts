/**
 * Waits for `work`, but no longer than until `cutShort` resolves: the shutdown paths pass the
 * promise that resolves when the connection is gone, since then nothing left (an ack, a drain,
 * a KV delete) can be confirmed by the server and waiting only delays the exit. Resolves with
 * the work's result, or undefined when cut short; `work` keeps running (and its late outcome is
 * ignored). A rejection of `work` before the cut is passed on.
 */
export function unlessCutShort<T>(work: Promise<T>, cutShort?: Promise<unknown>): Promise<T | undefined> {
  if (!cutShort) return work;
  // a rejection after the cut has nobody waiting for it: keep it from becoming unhandled
  work.catch(() => undefined);
  return Promise.race([work, cutShort.then(() => undefined)]);
}
