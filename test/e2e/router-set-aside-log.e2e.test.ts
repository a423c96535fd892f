// Quarantined and unrouted events are not silent: `jetbus up` (and `jetbus router`, the same
// Router) logs the first of each type with its id, type and reason, and sums up a flood.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const dir = mkdtempSync(join(tmpdir(), "jetbus-set-aside-log-"));
const procs: JetbusProcess[] = [];
let env: Awaited<ReturnType<typeof startServer>>;
test.before(async () => {
  env = await startServer();
});
test.after(async () => {
  await stopAll(procs);
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Line = Record<string, unknown> & { msg?: string };

/** The JSON log lines of a process whose message matches `pattern`. */
function linesOf(p: JetbusProcess, pattern: RegExp): Line[] {
  return p
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => pattern.test(String(l.msg)));
}

test("a raw publish that fails its schema and one no rule matches each leave a log line in up; a flood is summed up", async () => {
  const file = join(dir, "jetbus.config.json");
  writeFileSync(
    file,
    JSON.stringify({
      actors: [{ name: "sink", handler: "noop" }],
      routes: { rules: [{ name: "users", match: { type: "UserCreated" }, to: ["sink"] }] },
    }),
  );
  const up = spawnJetbus("up", ["up", "--no-http", "--config", file, "--servers", env.server.url], { JETBUS_LOG_LEVEL: "info" });
  procs.push(up);
  await up.waitOutput(/jetbus is up/);
  const js = jetstream(env.nc);
  const raw = (subject: string, body: string, id: string) => js.publish(subject, new TextEncoder().encode(body), { msgID: id });

  // as `nats pub events.UserCreated '{"user_id":5}'` would: the schema wants a string
  await raw("events.UserCreated", '{"user_id":5}', "raw-bad-1");
  await up.waitOutput(/quarantined, not routed/, 60_000);
  const [q] = linesOf(up, /quarantined, not routed/);
  assert.is(q!.level, 40, "warn");
  assert.equal([q!.id, q!.type, q!.subject], ["raw-bad-1", "UserCreated", "events.UserCreated"]);
  assert.match(String(q!.reason), /schema schemas\/events\/UserCreated\.json: user_id: must be string/);

  await raw("events.NobodyListens", '{"n":1}', "raw-free-1");
  await up.waitOutput(/unrouted: no rule selects it/, 60_000);
  const [u] = linesOf(up, /unrouted: no rule selects it/);
  assert.equal([u!.id, u!.type], ["raw-free-1", "NobodyListens"]);

  // a flood of the same mistake: a line for the first of a window (10 s), the rest summed up when it ends
  for (let i = 0; i < 40; i++) await raw("events.UserCreated", `{"user_id":${i}}`, `raw-flood-${i}`);
  await up.waitOutput(/more event\(s\) quarantined in the last 10 s/, 60_000);
  const summaries = () => linesOf(up, /more event\(s\) quarantined/);
  const each = () => linesOf(up, /quarantined, not routed/);
  const told = () => each().length + summaries().reduce((n, l) => n + Number(l.events), 0);
  // the flood may straddle two windows: the second one's summary comes when it ends
  await waitFor(() => told() === 41, "every quarantined event either logged or counted", 60_000);
  assert.ok(each().length <= 3, `${each().length} lines of their own for 41 events of one type`);
  assert.equal(Object.keys(summaries()[0]!.byType as object), ["UserCreated"]);
});

test.run();
