import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { runJetbus } from "../helpers/cli.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { EventBus, ensureEventStream, StoreAccess } from "../../runtime/store/mod.ts";
import { expectedBalances, type Moved } from "../fixtures/projection-modules/balances.ts";

const MODULE = fileURLToPath(new URL("../fixtures/projection-modules/balances.ts", import.meta.url));

let env: Awaited<ReturnType<typeof startServer>>;
let dir: string;
let config: string;
const procs: JetbusProcess[] = [];
const published: Array<{ type: string; data: Moved }> = [];

const cli = (...args: string[]) => runJetbus([...args, "--config", config, "--servers", env.server.url]);

async function publish(n: number): Promise<void> {
  const bus = new EventBus(env.nc);
  for (let i = 0; i < n; i++) {
    const e = { type: i % 2 ? "Withdrawn" : "Deposited", data: { account: `acct-${i % 3}`, amount: i + 1 } };
    await bus.publish(e.type, e.data);
    published.push(e);
  }
  await bus.close();
}

test.before(async () => {
  env = await startServer();
  dir = mkdtempSync(join(tmpdir(), "jetbus-projection-cli-"));
  config = join(dir, "jetbus.config.json");
  writeFileSync(config, JSON.stringify({ projections: [{ name: "balances", module: MODULE }], observability: { log_level: "info" } }));
  await ensureEventStream(await jetstreamManager(env.nc), configFrom({}, "(t)").store, StoreAccess.Create);
});
test.after(async () => {
  await stopAll(procs);
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("status before the first run; run keeps it live; get, list, status; rebuild switches the live runner; --model-version reads the previous one", async () => {
  await publish(20);
  const before = await cli("projection", "status");
  assert.is(before.code, 0, before.stderr);
  assert.match(before.stdout, /balances\s+-\s+-\s+-\s+0\s+not started/);

  const run = spawnJetbus("projection run", [
    "projection",
    "run",
    "balances",
    "--config",
    config,
    "--servers",
    env.server.url,
    "--no-http",
  ]);
  procs.push(run);
  await run.waitOutput(/projections running/);
  const expected = expectedBalances(published);
  await waitFor(async () => {
    const r = await cli("projection", "get", "balances", "acct-1", "--json");
    return r.code === 0 && JSON.stringify(JSON.parse(r.stdout).value) === JSON.stringify(expected.get("acct-1"));
  }, "acct-1 up to date");
  const got = await cli("projection", "get", "balances", "acct-0");
  assert.is(got.code, 0, got.stderr);
  assert.match(
    got.stdout,
    new RegExp(
      `^${JSON.stringify(expected.get("acct-0")).replace(/[{}]/g, "\\$&")}\\n\\(version 1, store sequence \\d+, event \\S+\\)\\n$`,
    ),
  );
  const list = await cli("projection", "list", "balances", "--json");
  assert.equal(
    list.stdout
      .trim()
      .split("\n")
      .map((l) => [JSON.parse(l).key, JSON.parse(l).value]),
    [...expected].sort(),
  );
  const missing = await cli("projection", "get", "balances", "nobody");
  assert.is(missing.code, 1);
  assert.match(missing.stderr, /NOT_FOUND.*no state for key "nobody"/);
  await waitFor(
    async () => /balances\s+1\s+\d+\s+0\s+1\s+caught up/.test((await cli("projection", "status")).stdout),
    "status: caught up, one runner",
  );

  const rebuilt = await cli("projection", "rebuild", "balances");
  assert.is(rebuilt.code, 0, rebuilt.stderr);
  assert.match(
    rebuilt.stdout,
    /^rebuilt balances as version 2 from 20 events in [\d.]+ s \(store sequence \d+\); readers switched from version 1; a live runner took it over\n$/,
  );
  await run.waitOutput(/projection switched version/);
  await publish(4);
  const now = expectedBalances(published);
  await waitFor(async () => {
    const r = await cli("projection", "get", "balances", "acct-0", "--json");
    const doc = JSON.parse(r.stdout) as { version: number; value: unknown };
    return doc.version === 2 && JSON.stringify(doc.value) === JSON.stringify(now.get("acct-0"));
  }, "version 2 kept live by the runner");
  const old = await cli("projection", "get", "balances", "acct-0", "--model-version", "1", "--json");
  assert.is(old.code, 0, old.stderr);
  assert.equal(JSON.parse(old.stdout).value, expected.get("acct-0"), "version 1 stays as it was at the switch");
  const status = JSON.parse((await cli("projection", "status", "--json")).stdout) as { version: number; previous: number; lag: number };
  assert.is(status.version, 2);
  assert.is(status.previous, 1);

  run.child.kill("SIGTERM");
  assert.equal((await run.exited).code, 0);
});

test("config validate loads projection modules and names a broken one by its JSON path", async () => {
  const broken = join(dir, "broken.json");
  writeFileSync(broken, JSON.stringify({ projections: [{ name: "nope", module: "./missing.ts" }] }));
  const r = await runJetbus(["config", "validate", broken]);
  assert.is(r.code, 2);
  assert.match(r.stderr, /projections\[0\]\.module: module \S+missing\.ts does not exist/);
  const ok = await runJetbus(["config", "validate", config]);
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /valid \(0 actors, 0 rules, 1 projections\)/);
});

test.run();
