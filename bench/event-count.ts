/**
 * Exactly-once accounting of the `peers` bench, kept by each consumer process: every event has an
 * index 0..n-1 (its stream position for the raw and peer consumers, its id `bench-<i>` for jetbus);
 * a handler records it, and the bench checks afterwards that each index was handled once and only
 * once. A bitmap and three counters: nothing per event that a no-op handler would not pay anyway.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";

export type Tally = Readonly<{ expected: number; handled: number; distinct: number; duplicates: number; outOfRange: number }>;

/** What every consumer process prints once it has seen each of the n events (the bench waits for it). */
export const ALL_HANDLED = "all events handled";

/**
 * Counts handlings of events 0..n-1 and writes the tally to `file` every 200 ms and on exit
 * (written whole, then renamed: the bench never reads half a file). Prints ALL_HANDLED on stdout
 * the moment the last missing index arrives.
 */
export function eventCounter(n: number, file: string): { record(i: number): void; tally(): Tally; flush(): void } {
  const seen = new Uint8Array(n);
  let handled = 0;
  let distinct = 0;
  let duplicates = 0;
  let outOfRange = 0;
  let dirty = true;
  const tally = (): Tally => ({ expected: n, handled, distinct, duplicates, outOfRange });
  const flush = () => {
    if (!dirty) return;
    dirty = false;
    writeFileSync(`${file}.tmp`, JSON.stringify(tally()));
    renameSync(`${file}.tmp`, file);
  };
  setInterval(flush, 200).unref();
  process.once("exit", flush);
  flush();
  return {
    record(i: number) {
      handled++;
      dirty = true;
      if (!(i >= 0 && i < n)) outOfRange++;
      else if (seen[i] === 1) duplicates++;
      else {
        seen[i] = 1;
        if (++distinct === n) process.stdout.write(`${ALL_HANDLED}\n`);
      }
    },
    tally,
    flush,
  };
}

export function readTally(file: string): Tally {
  return JSON.parse(readFileSync(file, "utf8")) as Tally;
}

/** Why a tally is not "each of n events handled exactly once", or undefined when it is. */
export function exactlyOnceProblem(t: Tally): string | undefined {
  if (t.distinct === t.expected && t.handled === t.expected && t.duplicates === 0 && t.outOfRange === 0) return undefined;
  return `${t.handled} handlings of ${t.expected} events: ${t.distinct} distinct, ${t.expected - t.distinct} never handled, ${t.duplicates} duplicates, ${t.outOfRange} unknown`;
}
