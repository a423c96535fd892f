/** Cumulative counters read at one moment, keyed by name. */
export type CounterSample = Readonly<{ at: number; values: ReadonlyMap<string, number> }>;

/**
 * Turns successive readings of cumulative counters into per-second rates and totals since the
 * first reading. A counter is compared with the last value it had in any earlier reading (a
 * replica missing from one reading is not counted twice); one seen for the first time after the
 * first reading (a replica that just started) counts from zero; a counter that went down
 * (retention removed stored events) counts as no change for that interval.
 */
export class RateTracker {
  private prevAt?: number;
  /** When the first reading was taken: totals count from here. */
  firstAt?: number;
  /** Milliseconds between the last two readings: what the rates are averaged over (undefined before the second). */
  windowMs?: number;
  private readonly lastSeen = new Map<string, number>();
  private readonly totals = new Map<string, number>();
  private readonly rates = new Map<string, number>();

  sample(s: CounterSample): void {
    this.rates.clear();
    if (this.prevAt !== undefined) {
      this.windowMs = Math.max(1, s.at - this.prevAt);
      const dt = this.windowMs / 1000;
      for (const [key, value] of s.values) {
        const delta = Math.max(0, value - (this.lastSeen.get(key) ?? 0));
        this.rates.set(key, delta / dt);
        this.totals.set(key, (this.totals.get(key) ?? 0) + delta);
      }
    }
    for (const [key, value] of s.values) this.lastSeen.set(key, value);
    this.firstAt ??= s.at;
    this.prevAt = s.at;
  }

  /** Per second over the last interval, summed over every key `match` accepts. */
  rate(match: (key: string) => boolean): number {
    let r = 0;
    for (const [k, v] of this.rates) if (match(k)) r += v;
    return r;
  }

  /** Counted since the first reading, summed over every key `match` accepts. */
  total(match: (key: string) => boolean): number {
    let t = 0;
    for (const [k, v] of this.totals) if (match(k)) t += v;
    return t;
  }
}

/** The last `size` values of a series (a sparkline's points). */
export class Series {
  private readonly values: number[] = [];
  constructor(private readonly size: number) {}

  push(v: number): void {
    this.values.push(v);
    if (this.values.length > this.size) this.values.shift();
  }

  list(): number[] {
    return [...this.values];
  }
}
