import type { IncomingMessage, ServerResponse } from "node:http";
import { NotReadyError } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { LiveFacts } from "./live-facts.ts";
import { RateTracker, Series } from "./rates.ts";
import { buildSnapshot, countersOf, type LiveSnapshot } from "./snapshot.ts";

/** One reading every 2 s: the heartbeat period, so every replica's counts are new on each tick. */
export const LIVE_EVERY_MS = 2000;
/** 150 points of 2 s: the sparklines show the last 5 minutes. */
export const HISTORY_POINTS = 150;

/**
 * The one server-sent event stream every open page subscribes to. NATS is read once per tick
 * for all clients, and only while at least one is connected; each tick is sent to every client.
 */
export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private readonly rates = new RateTracker();
  private readonly series = new Map<string, { handled: Series; failed: Series }>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private last?: LiveSnapshot;
  private lastReadAt = 0;
  private stopped = false;

  constructor(
    private readonly gather: () => Promise<LiveFacts>,
    private readonly logger: Logger,
    private readonly everyMs = LIVE_EVERY_MS,
  ) {}

  /**
   * A snapshot at most one tick old: the latest one, or one read now (the feed pauses while no
   * page is open, so the latest may be minutes old).
   */
  async snapshot(): Promise<LiveSnapshot> {
    if (!this.fresh()) await this.tick();
    if (!this.last) throw new NotReadyError("the console could not read the deployment yet (see its log); try again");
    return this.last;
  }

  /**
   * The snapshot the page is served with, so its first paint shows data rather than waiting up to
   * a tick for the event stream; undefined when no reading succeeds within `waitMs` (a slow or
   * unreachable server): the page then waits for the stream as before.
   */
  async forPage(waitMs: number): Promise<LiveSnapshot | undefined> {
    if (this.fresh()) return this.last;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => (timer = setTimeout(r, waitMs)));
    await Promise.race([this.tick(), late]).finally(() => clearTimeout(timer));
    return this.fresh() ? this.last : undefined;
  }

  private fresh(): boolean {
    return this.last !== undefined && Date.now() - this.lastReadAt < this.everyMs;
  }

  subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
    // the browser reconnects by itself after a drop; tell it to wait one tick
    res.write(`retry: ${this.everyMs}\n\n`);
    this.clients.add(res);
    if (this.last) this.send(res, this.last);
    req.on("close", () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.pause();
    });
    if (!this.timer) {
      // a reading made for the page a moment ago is this tick's; another now would measure rates over a few ms
      if (!this.fresh()) void this.tick();
      this.timer = setInterval(() => void this.tick(), this.everyMs);
    }
  }

  stop(): void {
    this.stopped = true;
    this.pause();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }

  private pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): Promise<void> {
    // a slow read (server busy, leader election) is not stacked up behind itself
    this.running ??= this.read().finally(() => (this.running = undefined));
    return this.running;
  }

  private async read(): Promise<void> {
    let facts: LiveFacts;
    try {
      facts = await this.gather();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, "console: live read failed; next tick tries again");
      for (const c of this.clients) c.write(`event: failure\ndata: ${JSON.stringify({ error: (err as Error).message })}\n\n`);
      return;
    }
    if (this.stopped) return;
    this.rates.sample(countersOf(facts));
    const pending = buildSnapshot(facts, this.rates, {});
    for (const a of pending.actors) {
      let s = this.series.get(a.name);
      if (!s) this.series.set(a.name, (s = { handled: new Series(HISTORY_POINTS), failed: new Series(HISTORY_POINTS) }));
      s.handled.push(a.rate.handled);
      s.failed.push(a.rate.failed);
    }
    const history = Object.fromEntries(
      pending.actors.map((a) => [
        a.name,
        { handled: this.series.get(a.name)!.handled.list(), failed: this.series.get(a.name)!.failed.list() },
      ]),
    );
    this.last = { ...pending, history };
    this.lastReadAt = Date.now();
    for (const c of this.clients) this.send(c, this.last);
  }

  private send(res: ServerResponse, s: LiveSnapshot): void {
    res.write(`event: snapshot\ndata: ${JSON.stringify(s)}\n\n`);
  }
}
