/**
 * The sides of the `notify` bench: notification fan-out to three handlers, each its own process,
 * with a publisher process. Each side uses its own API end to end: the raw client's core
 * publish/subscribe (queue groups), Moleculer 0.14's balanced events over its NATS transporter,
 * and jetbus notifications (EventBus.publish of a declared notification type; `jetbus actor` x 3,
 * routed by one rule). Every handler counts the event by `data.i` (bench/event-count.ts).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startHelper, type Helper } from "./pipeline-support.ts";

export const SINKS = ["sink-a", "sink-b", "sink-c"] as const;
const NOTIFY_ACTOR = fileURLToPath(new URL("./processes/notify-actor.ts", import.meta.url));

export type NotifyCtx = Readonly<{ url: string; dir: string; n: number; countFile: (sink: string) => string }>;
export type NotifyProcs = Readonly<{ publisher: Helper; consumers: readonly Helper[] }>;
export type NotifySide = Readonly<{ key: string; label: string; start(ctx: NotifyCtx): Promise<NotifyProcs> }>;

async function startAll(publisher: () => Promise<Helper>, consumer: (sink: string) => Promise<Helper>): Promise<NotifyProcs> {
  const consumers: Helper[] = [];
  try {
    for (const sink of SINKS) consumers.push(await consumer(sink));
    return { publisher: await publisher(), consumers };
  } catch (err) {
    for (const c of consumers) await c.stop();
    throw err;
  }
}

const raw: NotifySide = {
  key: "raw",
  label: "raw core publish/subscribe (queue group per handler)",
  start: (ctx) =>
    startAll(
      () => startHelper(["bench/processes/notify-raw.ts", ctx.url, "pub", String(ctx.n)], /publisher ready/),
      (sink) =>
        startHelper(["bench/processes/notify-raw.ts", ctx.url, "sub", sink, String(ctx.n), ctx.countFile(sink)], /consumer running/),
    ),
};

/** The raw client carrying the same CloudEvents binary-mode envelope as jetbus (ce-* headers set by hand, read back by the handler). */
const rawCe: NotifySide = {
  key: "raw-ce",
  label: "raw core publish/subscribe with jetbus's envelope (ce-* headers by hand)",
  start: (ctx) =>
    startAll(
      () => startHelper(["bench/processes/notify-raw.ts", ctx.url, "pub-ce", String(ctx.n)], /publisher ready/),
      (sink) =>
        startHelper(["bench/processes/notify-raw.ts", ctx.url, "sub-ce", sink, String(ctx.n), ctx.countFile(sink)], /consumer running/),
    ),
};

const moleculer: NotifySide = {
  key: "moleculer",
  label: "moleculer 0.14 balanced events (NATS transporter)",
  start: (ctx) =>
    startAll(
      () => startHelper(["bench/processes/notify-moleculer.ts", ctx.url, "pub", String(ctx.n)], /publisher ready/),
      (sink) =>
        startHelper(["bench/processes/notify-moleculer.ts", ctx.url, "sub", sink, String(ctx.n), ctx.countFile(sink)], /consumer running/),
    ),
};

const jetbus: NotifySide = {
  key: "jetbus",
  label: "jetbus notifications (jetbus actor x 3, one rule)",
  async start(ctx) {
    const config = join(ctx.dir, "jetbus.config.json");
    writeFileSync(
      config,
      JSON.stringify({
        actors: SINKS.map((name) => ({ name, module: NOTIFY_ACTOR })),
        routes: { rules: [{ name: "ticks", match: { type: "BenchTick" }, to: [...SINKS] }] },
        notifications: { types: ["BenchTick"] },
        // info: the bench waits for the "actor running" line
        observability: { log_level: "info" },
      }),
    );
    const common = ["--config", config, "--servers", ctx.url, "--no-http"];
    return startAll(
      () => startHelper(["bench/processes/notify-jetbus-pub.ts", ctx.url, String(ctx.n), config], /publisher ready/),
      (sink) =>
        startHelper(["bin/jetbus.js", "actor", sink, ...common], /actor running/, {
          NOTIFY_COUNT_OUT: ctx.countFile(sink),
          NOTIFY_N: String(ctx.n),
        }),
    );
  },
};

export const NOTIFY_SIDES: readonly NotifySide[] = [raw, rawCe, moleculer, jetbus];

/** Event i's data, the same ~200 bytes of JSON on every side (a notification for a dashboard). */
export function tickData(i: number): Record<string, unknown> {
  return { i, user_id: `user${i}`, username: "john_doe", email: "john@example.com", note: "x".repeat(110) };
}
