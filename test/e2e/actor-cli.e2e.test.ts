import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { ensureLogStream, fixEvent, readLog } from "../fixtures/probe-handler.ts";
import { feed, probeConfig, probeEvent, testRuntime } from "../fixtures/actor-harness.ts";
import { writeConfig } from "../fixtures/actor-process.ts";
import { listDeadLetters, startActors } from "../../runtime/actor/mod.ts";
import type { Runtime } from "../../runtime/app/bootstrap.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
let env: Awaited<ReturnType<typeof startServer>>;
let rt: Runtime | undefined;

test.before(async () => {
  env = await startServer();
  await ensureLogStream(env.nc);
});
test.after(async () => {
  await rt?.dispose().catch(() => undefined);
  await env?.stop();
});

function jetbus(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["bin/jetbus.js", ...args, "--servers", env.server.url], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, JETBUS_LOG_LEVEL: "warn" },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("jetbus dlq list shows dead letters and dlq replay --actor sends them back to the actor", async () => {
  const config = probeConfig([{ name: "cli-dlq", retry: { max_attempts: 1, backoff: ["100ms"] } }]);
  const file = writeConfig(config);
  rt = await testRuntime(env.server.url, config);
  const running = await startActors(rt, ["cli-dlq"], { replicas: 1 });
  const bad = probeEvent({ n: 1, fail_until_fixed: true });
  const worse = probeEvent({ n: 2, terminal: true });
  await feed(env.nc, config.actors[0]!, bad);
  await feed(env.nc, config.actors[0]!, worse);
  await waitFor(async () => (await listDeadLetters(env.nc, { actor: "cli-dlq" })).length === 2, "two dead letters", 30_000);

  const list = jetbus(["dlq", "list", "--actor", "cli-dlq", "--json", "--config", file]);
  assert.is(list.code, 0, list.stderr);
  const rows = list.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { eventId: string; actor: string; attempts: number; errorCode: string });
  assert.equal(rows.map((r) => r.eventId).sort(), [bad.id, worse.id].sort());
  assert.is(rows.find((r) => r.eventId === worse.id)!.errorCode, "USER_MISSING");
  const table = jetbus(["dlq", "list", "--config", file]);
  assert.match(table.stdout, /SEQ\s+ACTOR\s+EVENT ID/);
  assert.match(table.stdout, new RegExp(bad.id));

  // the bug behind `bad` gets fixed: replayed, it succeeds
  await fixEvent(env.nc, bad.id);
  const one = jetbus(["dlq", "replay", bad.id, "--config", file]);
  assert.is(one.code, 0, one.stderr);
  assert.match(one.stdout, new RegExp(`replayed ${bad.id} to actors\\.cli-dlq\\.0`));
  await waitFor(
    async () => (await readLog(env.nc)).some((l) => l.eventId === bad.id && l.phase === "end"),
    "replayed event handled",
    30_000,
  );
  const again = jetbus(["dlq", "replay", bad.id, "--config", file]);
  assert.is(again.code, 1, "replaying an id no longer in the DLQ is not found");
  assert.match(again.stderr, /NOT_FOUND/);
  const all = jetbus(["dlq", "replay", "--actor", "cli-dlq", "--json", "--config", file]);
  assert.is(all.code, 0, all.stderr);
  assert.is(JSON.parse(all.stdout.trim()).eventId, worse.id);
  await waitFor(
    async () => (await readLog(env.nc)).filter((l) => l.eventId === worse.id && l.phase === "start").length === 2,
    "terminal event ran again after replay",
    30_000,
  );
  await running.stop(5000);
});

test("jetbus actor refuses an unknown actor and a bad --replicas (bad input: exit 2)", () => {
  const file = writeConfig(probeConfig([{ name: "known" }]));
  const unknown = jetbus(["actor", "nope", "--config", file]);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /unknown actor "nope": the config defines known/);
  const slip = jetbus(["actor", "knwon", "--config", file]);
  assert.match(slip.stderr, /unknown actor "knwon"; did you mean "known"\?/);
  const bad = jetbus(["actor", "known", "--replicas", "0", "--config", file]);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /--replicas must be a whole number >= 1/);
});

test.run();
