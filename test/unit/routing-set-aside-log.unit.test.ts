// The log policy for quarantined and unrouted events (runtime/routing/set-aside-log.ts): the first
// of each type in a window gets its own line, the rest one summary when the window ends.
import { test } from "uvu";
import * as assert from "uvu/assert";
import pino from "pino";
import { Writable } from "node:stream";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import type { StoredEventMsg } from "../../runtime/routing/copies.ts";
import { SET_ASIDE_LOG_POLICY, SetAsideLog } from "../../runtime/routing/set-aside-log.ts";

type Line = { level: number; msg: string } & Record<string, unknown>;

/** A logger that keeps its lines, and a clock whose timers run when the test says. */
function harness() {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const logger = pino({ level: "info" }, sink);
  const timers: { ms: number; fn: () => void; cancelled: boolean }[] = [];
  const log = new SetAsideLog(logger, {
    after: (ms, fn) => {
      const t = { ms, fn, cancelled: false };
      timers.push(t);
      return { cancel: () => (t.cancelled = true) };
    },
  });
  const fire = () => timers.splice(0).forEach((t) => t.cancelled || t.fn());
  return { lines, log, timers, fire };
}

let seq = 0;
function stored(type: string, data: unknown, id?: string): StoredEventMsg {
  const w = encodeEvent(createEvent({ type, data, ...(id ? { id } : {}) }));
  return { subject: w.subject, data: w.data, headers: w.headers, seq: ++seq, stream: "EVENTS", timestamp: new Date() };
}

const flush = () => new Promise((r) => setImmediate(r));

test("a quarantined event gets a warn line with its id, type, store seq and reason", async () => {
  const h = harness();
  h.log.quarantined(stored("UserCreated", { user_id: 5 }, "evt-42"), "schema schemas/events/UserCreated.json: user_id: must be string");
  await flush();
  assert.is(h.lines.length, 1);
  const l = h.lines[0]!;
  assert.is(l.level, 40, "warn");
  assert.equal([l.id, l.type, l.subject, l.seq], ["evt-42", "UserCreated", "events.UserCreated", seq]);
  assert.match(String(l.reason), "user_id: must be string");
  assert.match(l.msg, "quarantined, not routed (`jetbus quarantine list` shows it)");
});

test("a message that does not decode is logged by its Nats-Msg-Id and subject", async () => {
  const h = harness();
  const m = stored("Broken", { a: 1 }, "raw-1");
  h.log.quarantined({ ...m, data: new TextEncoder().encode("{not json") }, "body is not JSON");
  await flush();
  assert.equal([h.lines[0]!.id, h.lines[0]!.type, h.lines[0]!.reason], ["raw-1", "Broken", "body is not JSON"]);
});

test("an unrouted event gets an info line with its id, type and the config revision", async () => {
  const h = harness();
  const m = stored("NobodyListens", {}, "evt-7");
  h.log.unrouted(m, { ...createEvent({ type: "NobodyListens", data: {}, id: "evt-7" }) }, 3);
  await flush();
  assert.is(h.lines[0]!.level, 30, "info");
  assert.equal([h.lines[0]!.id, h.lines[0]!.type, h.lines[0]!.configRevision], ["evt-7", "NobodyListens", 3]);
  assert.match(h.lines[0]!.msg, "unrouted: no rule selects it");
});

test("a flood: the first of each type is logged, the rest summed up by type when the window ends; a new window logs again", async () => {
  const h = harness();
  for (let i = 0; i < 500; i++) h.log.quarantined(stored("Bad", { i }), "schema");
  for (let i = 0; i < 20; i++) h.log.quarantined(stored("Worse", { i }), "schema");
  await flush();
  assert.equal(
    h.lines.map((l) => l.type),
    ["Bad", "Worse"],
    "one line per type while the window is open",
  );
  assert.is(h.timers.length, 1, "one window timer");
  assert.is(h.timers[0]!.ms, SET_ASIDE_LOG_POLICY.quarantined.windowMs);
  h.fire();
  await flush();
  assert.is(h.lines.length, 3);
  const summary = h.lines[2]!;
  assert.equal([summary.events, summary.byType], [518, { Bad: 499, Worse: 19 }]);
  assert.match(summary.msg, "518 more event(s) quarantined in the last 10 s, not logged one by one");
  h.log.quarantined(stored("Bad", {}), "schema");
  await flush();
  assert.is(h.lines.length, 4, "the next window logs its first event again");
});

test("at most `lines` types get their own line per window; a quiet window ends without a summary", async () => {
  const h = harness();
  const limit = SET_ASIDE_LOG_POLICY.unrouted.lines;
  for (let t = 0; t < limit + 5; t++) h.log.unrouted(stored(`T${t}`, {}), createEvent({ type: `T${t}`, data: {} }), 1);
  await flush();
  assert.is(h.lines.length, limit);
  h.fire();
  await flush();
  assert.equal(h.lines.at(-1)!.byType, { T10: 1, T11: 1, T12: 1, T13: 1, T14: 1 });
  const quiet = harness();
  quiet.log.unrouted(stored("Once", {}), createEvent({ type: "Once", data: {} }), 1);
  quiet.fire();
  await flush();
  assert.is(quiet.lines.length, 1, "nothing counted, nothing summed up");
});

test("flush (a stopping router) says what was counted at once, per kind, and cancels the window", async () => {
  const h = harness();
  for (let i = 0; i < 3; i++) h.log.quarantined(stored("Bad", {}), "x");
  for (let i = 0; i < 4; i++) h.log.unrouted(stored("Free", {}), createEvent({ type: "Free", data: {} }), 1);
  h.log.flush();
  await flush();
  assert.equal(
    h.lines.slice(2).map((l) => [l.events, l.byType]),
    [
      [2, { Bad: 2 }],
      [3, { Free: 3 }],
    ],
  );
  assert.ok(
    h.timers.every((t) => t.cancelled),
    "window timers cancelled",
  );
});

test.run();
