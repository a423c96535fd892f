import { TimeoutError } from "../../errors.ts";
import { withSignal } from "../context.ts";
import type { Middleware } from "./types.ts";

/**
 * One handling under watch: settles with the handler, or fails at its deadline. Its
 * AbortController exists only if the handler reads ctx.signal. Methods rather than per-event
 * closures: tsx names every named closure it creates (a defineProperty each), a visible cost here.
 */
class Deadline {
  private controller?: AbortController;
  private unlink?: () => void;
  private resolve!: () => void;
  private reject!: (err: unknown) => void;
  readonly settled: Promise<void>;

  constructor(
    readonly at: number,
    private readonly outer: AbortSignal,
    private readonly running: Set<Deadline>,
  ) {
    this.settled = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** The signal the handler sees: aborted at the deadline, or when the outer signal aborts. */
  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      const outer = this.outer;
      const forward = () => controller.abort(outer.reason);
      if (outer.aborted) forward();
      else {
        outer.addEventListener("abort", forward, { once: true });
        this.unlink = () => outer.removeEventListener("abort", forward);
      }
    }
    return this.controller.signal;
  }

  follow(handling: Promise<void>): Promise<void> {
    handling.then(
      () => this.end(this.resolve),
      (err: unknown) => this.end(this.reject, err),
    );
    return this.settled;
  }

  expire(err: Error): void {
    this.controller?.abort(err);
    this.end(this.reject, err);
  }

  /** The first outcome settles the handling (a promise settles once); either one stops the watch. */
  private end(settle: (err?: unknown) => void, err?: unknown): void {
    this.running.delete(this);
    this.unlink?.();
    this.unlink = undefined;
    settle(err);
  }
}

/**
 * Fails a handling that runs longer than `ms` with a retryable TimeoutError, and aborts the
 * ctx.signal the handler sees at that moment (as it is aborted when the shutdown grace period
 * runs out). Without a bound, the ack-deadline keepalive would hold a hung handler's event, and
 * its concurrency slot, forever. JavaScript cannot stop a promise: a handler that ignores its
 * signal keeps running after the timeout while the retry is scheduled, so handlers that do long
 * work should pass ctx.signal on (fetch, timers, drivers).
 *
 * On the hot path this costs a Set entry per handling: one sweep timer per middleware instance
 * (armed only while something runs) finds the late ones, instead of a timer, an AbortController
 * and a Promise.race per event, which halved the dispatch rate of a no-op actor.
 */
export function timeout(ms: number): Middleware {
  const running = new Set<Deadline>();
  const period = Math.min(1000, Math.max(10, Math.floor(ms / 10)));
  let sweeper: NodeJS.Timeout | undefined;

  const sweep = () => {
    sweeper = undefined;
    const now = Date.now();
    for (const d of running) {
      if (d.at > now) continue;
      d.expire(new TimeoutError(`handler ran longer than its timeout of ${ms} ms`));
    }
    arm();
  };
  const arm = () => {
    if (sweeper || running.size === 0) return;
    // not unref'd: it is armed only while a handling runs, which is work the process waits for
    sweeper = setTimeout(sweep, period);
  };

  return (next) => (event, ctx) => {
    const d = new Deadline(Date.now() + ms, ctx.signal, running);
    running.add(d);
    arm();
    let handling: Promise<void>;
    try {
      handling = next(
        event,
        withSignal(ctx, () => d.signal),
      );
    } catch (err) {
      // a handler that throws before returning a promise fails like one that rejects
      handling = Promise.reject(err);
    }
    return d.follow(handling);
  };
}
