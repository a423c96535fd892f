import type { Problem } from "../errors.ts";
import type { JetbusConfig, Millis } from "./types.ts";

/**
 * Deepest nesting a config document may have. The schema validator and the filter evaluator
 * recurse once per level or more: a 5,000-level `not` filter overflowed the stack (a RangeError,
 * not a config error; found by test/unit/config-properties). Real configs nest under 15 levels
 * (a rule's data filter with a few combinators); 64 leaves room and stays far below the stack.
 */
export const MAX_CONFIG_DEPTH = 64;

/** JetStream takes durations as int64 nanoseconds: 9,223,372,036,854 ms, about 292 years. */
export const MAX_DURATION_MS = Math.floor((2 ** 63 - 1) / 1e6);

/**
 * A worker renews an ack deadline on a timer every ack_wait/3 (runtime/actor/ack-keepalive.ts), and
 * Node runs a timer longer than 2^31-1 ms after 1 ms instead: a longer ack_wait would renew in a
 * tight loop. 3 x (2^31-1) ms is about 74 days.
 */
export const MAX_ACK_WAIT_MS = 3 * (2 ** 31 - 1);

/** The first place a document nests deeper than MAX_CONFIG_DEPTH, walked without recursion. */
export function depthProblem(doc: unknown): Problem | undefined {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: doc, path: "", depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth >= MAX_CONFIG_DEPTH) return { path, message: `nested deeper than ${MAX_CONFIG_DEPTH} levels` };
    const entries = Array.isArray(v)
      ? v.map((x, i) => [`[${i}]`, x] as const)
      : Object.entries(v).map(([k, x]) => [path ? `.${k}` : k, x] as const);
    for (const [step, x] of entries) stack.push({ v: x, path: path + step, depth: depth + 1 });
  }
  return undefined;
}

/**
 * A stream's max_age and duplicate window, when set, must be at least this (nats-server refuses
 * less: "max age needs to be >= 100ms", "duplicates window needs to be >= 100ms"; both found by
 * test/integration/config-starts). store.max_age and idempotency.ttl (the marker bucket's max_age)
 * are streams' max_age, store.duplicate_window the store's window; 0 is "forever" / the default.
 */
export const MIN_STREAM_AGE_MS = 100;

/** Durations the schema accepts in form but that no timer or JetStream field can hold. */
export function durationProblems(config: JetbusConfig): Problem[] {
  const problems: Problem[] = [];
  // validation has converted them to milliseconds; one too long to convert stays a string
  const check = (
    path: string,
    d: Millis | undefined,
    max = MAX_DURATION_MS,
    why = "the longest JetStream takes (int64 nanoseconds, ~292 years)",
  ) => {
    if (d !== undefined && !(typeof d === "number" && d <= max))
      problems.push({ path, message: `${typeof d === "number" ? `${d} ms` : JSON.stringify(d)} is longer than ${max} ms, ${why}` });
  };
  const atLeast = (path: string, d: Millis | undefined) => {
    if (typeof d === "number" && d > 0 && d < MIN_STREAM_AGE_MS)
      problems.push({
        path,
        message: `${d} ms is shorter than ${MIN_STREAM_AGE_MS} ms, the least JetStream takes for a stream's age or duplicate window`,
      });
  };
  check("store.max_age", config.store.max_age);
  atLeast("store.max_age", config.store.max_age);
  check("store.duplicate_window", config.store.duplicate_window);
  atLeast("store.duplicate_window", config.store.duplicate_window);
  config.actors.forEach((a, i) => {
    check(
      `actors[${i}].ack_wait`,
      a.ack_wait,
      MAX_ACK_WAIT_MS,
      "~74 days (workers renew the deadline on a timer every ack_wait/3; Node timers stop at 2^31-1 ms)",
    );
    check(`actors[${i}].timeout`, a.timeout);
    check(`actors[${i}].idempotency.ttl`, a.idempotency.ttl);
    atLeast(`actors[${i}].idempotency.ttl`, a.idempotency.ttl);
    a.retry.backoff.forEach((b, j) => check(`actors[${i}].retry.backoff[${j}]`, b));
  });
  return problems;
}
