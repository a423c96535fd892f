import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import type { Msg } from "@nats-io/transport-node";
import { runJetbus } from "../helpers/cli.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

let env: Awaited<ReturnType<typeof startServer>>;
let dir: string;
let config: string;

test.before(async () => {
  env = await startServer();
  dir = mkdtempSync(join(tmpdir(), "jetbus-notify-cli-"));
  config = join(dir, "jetbus.config.json");
  writeFileSync(config, JSON.stringify({ notifications: { types: ["PriceTicked"] }, observability: { log_level: "warn" } }));
});
test.after(async () => {
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("jetbus pub of a declared notification type, and of any type with --notify, sends on notify.<type> and stores nothing (no store needed)", async () => {
  const got: Msg[] = [];
  const sub = env.nc.subscribe("notify.>", { callback: (_err, m) => void got.push(m) });
  await env.nc.flush();
  const a = await runJetbus(["pub", "PriceTicked", '{"symbol":"X","price":3}', "--config", config, "--servers", env.server.url]);
  assert.is(a.code, 0, a.stderr);
  assert.match(a.stdout, /^\S+ notified \(not stored\)\n$/);
  const b = await runJetbus(["pub", "Alert", '{"level":2}', "--notify", "--json", "--config", config, "--servers", env.server.url]);
  assert.is(b.code, 0, b.stderr);
  const r = JSON.parse(b.stdout) as { id: string; seq: number; notification: boolean };
  assert.is(r.notification, true);
  assert.is(r.seq, 0);
  await waitFor(() => got.length === 2, "both notifications received");
  assert.equal(
    got.map((m) => m.subject),
    ["notify.PriceTicked", "notify.Alert"],
  );
  assert.is(got[0]!.headers?.get("ce-type"), "PriceTicked", "the same binary-mode envelope as a stored event");
  assert.is(got[1]!.headers?.get("ce-id"), r.id);
  sub.unsubscribe();
  // no store was ever made: a stored type is refused for want of it, a notification never needed it
  const jsm = await jetstreamManager(env.nc);
  const streams: string[] = [];
  for await (const s of jsm.streams.list()) streams.push(s.config.name);
  assert.not.ok(streams.includes("EVENTS"));
  const c = await runJetbus(["pub", "Stored", "{}", "--config", config, "--servers", env.server.url]);
  assert.is(c.code, 1);
  assert.match(c.stderr, /STORE_MISSING/);
});

test.run();
