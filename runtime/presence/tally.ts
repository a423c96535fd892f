/**
 * Cumulative counts one replica reports in its heartbeat (handled, failed; a router's copies per
 * rule and actor), so any reader of `jetbus-presence` (the console) derives rates for the whole
 * deployment from one bucket read, without scraping every process's /metrics.
 */
export class Tally {
  private readonly counts = new Map<string, number>();

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/** A metric child that also counts into a tally under `key`. */
export function tallied<C extends { inc(): void }>(counter: C, tally: Tally, key: string): { inc(): void } {
  return {
    inc: () => {
      counter.inc();
      tally.add(key);
    },
  };
}

/** Tally keys (also read by the console). */
export const TallyKeys = {
  handled: "handled",
  failed: "failed",
  /** A router's copies produced by one rule for one actor. */
  copy: (rule: string, actor: string) => `copy:${rule}>${actor}`,
} as const;
