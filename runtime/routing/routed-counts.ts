import type { Metrics } from "../observability/metrics.ts";
import { TallyKeys, type Tally } from "../presence/tally.ts";

/**
 * Copies routed, counted per rule and actor over one turn of the event loop and added to the
 * `routed` metric and the presence tally once each (and events indexed, to the `indexed` metric):
 * a labelled metric update per copy (the client hashes the labels every time) was a visible
 * share of the router's time per event.
 */
export class RoutedCounts {
  private readonly byRule = new Map<string, Map<string, number>>();
  private indexedCount = 0;
  private scheduled = false;

  constructor(
    private readonly metrics: Metrics,
    private readonly tally: () => Tally,
  ) {}

  add(rule: string, actor: string): void {
    let actors = this.byRule.get(rule);
    if (!actors) this.byRule.set(rule, (actors = new Map()));
    actors.set(actor, (actors.get(actor) ?? 0) + 1);
    this.schedule();
  }

  /** One event's index entries are stored. */
  indexed(): void {
    this.indexedCount++;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Adds what was counted since the last flush (the router's stop calls it last). */
  flush(): void {
    this.scheduled = false;
    const perActor = new Map<string, number>();
    for (const [rule, actors] of this.byRule) {
      for (const [actor, n] of actors) {
        this.tally().add(TallyKeys.copy(rule, actor), n);
        perActor.set(actor, (perActor.get(actor) ?? 0) + n);
      }
    }
    this.byRule.clear();
    for (const [actor, n] of perActor) this.metrics.routed.inc({ actor }, n);
    if (this.indexedCount > 0) this.metrics.indexed.inc(this.indexedCount);
    this.indexedCount = 0;
  }
}
