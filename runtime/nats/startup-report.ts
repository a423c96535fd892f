import { AsyncLocalStorage } from "node:async_hooks";

/** One retry of a start-up step: what failed, how many times so far, when it is asked again. */
export type StartupRetry = Readonly<{ attempt: number; err: unknown; retryInMs: number }>;

type Reporter = { onRetry: (r: StartupRetry) => void; active: boolean };

const current = new AsyncLocalStorage<Reporter>();

/**
 * Runs a service's start-up with `onRetry` told of every retry made inside it, also by the
 * retryTransient loops deep in the ensure* steps (which know no logger): a process waiting on a
 * JetStream API that times out says so on each attempt instead of staying silent for a minute.
 * Only during the start-up: work started by it that outlives it (consume loops, heartbeats)
 * inherits the context, so the reporter is switched off when the start-up ends.
 */
export async function duringStartup<T>(onRetry: (r: StartupRetry) => void, fn: () => Promise<T>): Promise<T> {
  const reporter: Reporter = { onRetry, active: true };
  try {
    return await current.run(reporter, fn);
  } finally {
    reporter.active = false;
  }
}

/** Called by retry loops before each new attempt; a no-op outside a start-up. */
export function reportStartupRetry(r: StartupRetry): void {
  const reporter = current.getStore();
  if (reporter?.active) reporter.onRetry(r);
}
