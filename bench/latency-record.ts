/**
 * Latency samples written by the processes of the `e2e-latency` bench (sinks, the jetbus actor)
 * and read back by the bench. Every process of the bench runs on one machine, so one clock:
 * `wallNow()` (the time origin of this process plus its monotonic time) is comparable across
 * processes to well under a millisecond, unlike Date.now()'s whole milliseconds.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";

export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Records `now - sentAt` per event into `file`, one number a line. Appends every 200 ms instead of
 * per event: a synchronous write per event at 5k/s would itself add latency to the sink.
 */
export function latencyRecorder(file: string): { record(sentAt: number): void; flush(): void } {
  let pending: string[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    appendFileSync(file, pending.join("\n") + "\n");
    pending = [];
  };
  setInterval(flush, 200).unref();
  process.once("exit", flush);
  return {
    record(sentAt: number) {
      pending.push((wallNow() - sentAt).toFixed(3));
    },
    flush,
  };
}

/** The samples recorded so far in `file` (ms), in arrival order. */
export function readSamples(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map(Number);
}
