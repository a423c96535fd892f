import { StartupTimeoutError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { isNotFound, isTransient } from "../nats/errors.ts";
import { duringStartup, type StartupRetry } from "../nats/startup-report.ts";

/**
 * How long a service keeps starting again before it gives up (StartupTimeoutError). Failures that
 * waiting fixes come from a cluster electing leaders (up to ~9 s per election in nats-server 2.x,
 * longer when a node is paused or partitioned): five minutes outlasts several of them while still
 * ending a process whose cluster is gone, for its supervisor to see.
 */
export const STARTUP_GIVE_UP_MS = 5 * 60_000;
/** Inner retries come every 50 ms to 1 s: one log line per this much is enough to see the process waits. */
const INNER_LOG_EVERY_MS = 2_000;
const FIRST_RESTART_MS = 250;
const MAX_RESTART_MS = 5_000;
/**
 * A stream or consumer "not found" during start-up is started again this many times: replicas of
 * one actor starting together on a 3-node cluster create its inbox and dead-letter streams at the
 * same moment, and a request right after the other's create can reach a server whose stream group
 * is not formed yet (a fresh-machine npm test: `jetbus actor` exited 1 with an untyped "stream not
 * found" 3 s after the cluster came up). Few: a store that is really missing is STORE_MISSING
 * before this, and a lasting "not found" must still end the process with its own message.
 */
const NOT_FOUND_RESTARTS = 5;

export type StartupRetryOptions = Readonly<{
  giveUpMs?: number;
  /** At most one line per this much for the retries inside the start-up (tests: 0). */
  innerLogEveryMs?: number;
}>;

function reasonOf(err: unknown): string {
  const e = err as { message?: string; name?: string } | undefined;
  return e?.message ?? e?.name ?? String(err);
}

/**
 * Runs the start-up of a long-running service (`up`, `router`, `actor`) until it succeeds. A
 * failure that waiting can fix (isTransient: a JetStream API request timing out, no responders
 * while a meta leader is elected, a stream or consumer offline) makes it start again from the
 * beginning (every step is idempotent; `start` must undo what it began before it throws), with a
 * warning per attempt; so does every retry inside it (reportStartupRetry), at most one line per
 * 2 s. Any other failure is thrown at once; a transient one still there after `giveUpMs` becomes
 * a StartupTimeoutError. Up to then the process waits as it does for an unreachable server.
 */
export async function startWithRetry<T>(
  logger: Logger,
  service: string,
  start: () => Promise<T>,
  opts: StartupRetryOptions = {},
): Promise<T> {
  const began = Date.now();
  const giveUpAt = began + (opts.giveUpMs ?? STARTUP_GIVE_UP_MS);
  let lastInnerLog = 0;
  const onInner = (r: StartupRetry): void => {
    if (lastInnerLog > 0 && Date.now() - lastInnerLog < (opts.innerLogEveryMs ?? INNER_LOG_EVERY_MS)) return;
    lastInnerLog = Date.now();
    logger.warn(
      { service, attempt: r.attempt, err: reasonOf(r.err), retryInMs: r.retryInMs },
      `${service}: a start-up step got no answer (JetStream API timing out or electing leaders); asking again`,
    );
  };
  let delay = FIRST_RESTART_MS;
  let notFound = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      return await duringStartup(onInner, start);
    } catch (err) {
      if (!isTransient(err) && !(isNotFound(err) && ++notFound <= NOT_FOUND_RESTARTS)) throw err;
      if (Date.now() + delay > giveUpAt) throw new StartupTimeoutError(service, Date.now() - began, attempt, reasonOf(err), err);
      logger.warn(
        { service, attempt, err: reasonOf(err), retryInMs: delay },
        `${service}: start-up failed for now (JetStream API timing out or electing leaders); starting again`,
      );
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, MAX_RESTART_MS);
    }
  }
}
