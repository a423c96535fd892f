// After SIGTERM a router process drains: in-flight events finish routing (their copies acked),
// the indexer and the timer relay stop, the connection drains. With the server gone none of that
// can be confirmed, so it must not wait for it: it logs why and exits at once; the events it held
// unacked are redelivered by the server (after ack_wait) to whichever router consumes next.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { EventBus } from "../../runtime/store/mod.ts";
import { Consumers, Streams } from "../../runtime/topology.ts";
import { spawnJetbus, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const procs: JetbusProcess[] = [];
const dirs: string[] = [];
test.after.each(async () => {
  for (const p of procs.splice(0)) if (p.running()) p.child.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function writeConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-router-shutdown-"));
  dirs.push(dir);
  const file = join(dir, "jetbus.config.json");
  writeFileSync(
    file,
    JSON.stringify({
      observability: { log_level: "info" },
      actors: [{ name: "audit", handler: "noop" }],
      routes: { rules: [{ name: "all", match: { type: "*" }, to: ["audit"] }] },
    }),
  );
  return file;
}

/**
 * A prompt exit takes 0.2-0.8 s here; each wait it must skip is 5 s or more (a KV delete's request
 * timeout before the fix; a copy's publish budget of 10 x 5 s; the indexer's 30 s drain).
 */
const PROMPT_MS = 4_000;

const exited = (p: JetbusProcess, ms: number) =>
  waitFor(() => (p.running() ? null : true), `${p.label} (pid ${p.pid}) exited after SIGTERM`, ms, 50);

/** SIGKILL the server (no goodbye), wait until the process has noticed, then SIGTERM it. */
async function killServerThenTerm(p: JetbusProcess, server: { kill(): Promise<void> }): Promise<void> {
  await server.kill();
  await p.waitOutput(/disconnected from NATS/, 30_000);
  p.child.kill("SIGTERM");
  await exited(p, PROMPT_MS);
}

for (const command of [["router"], ["router", "--no-indexer"], ["up"]]) {
  test(`jetbus ${command.join(" ")}: SIGTERM with the server SIGKILLed exits promptly, saying why`, async () => {
    const env = await startServer();
    try {
      const p = spawnJetbus(command.join(" "), [...command, "--config", writeConfig(), "--servers", env.server.url, "--no-http"]);
      procs.push(p);
      await p.waitOutput(command[0] === "up" ? /jetbus is up/ : /router running/, 90_000);
      await killServerThenTerm(p, env.server);
      const { code } = await p.exited;
      assert.is(code, 0, p.output());
      assert.match(p.output(), /NATS is unreachable: not waiting/);
    } finally {
      await env.stop();
    }
  });
}

/** A router holding an event whose copy can never be acked: without the inbox stream the copy is answered "no responders" and resent for the publish budget (50 s), as while a stream has no leader. */
async function routerWithParkedEvent(env: Awaited<ReturnType<typeof startServer>>): Promise<JetbusProcess> {
  const p = spawnJetbus("router", ["router", "--config", writeConfig(), "--servers", env.server.url, "--no-http"]);
  procs.push(p);
  await p.waitOutput(/router running/, 90_000);
  const jsm = await jetstreamManager(env.nc);
  await jsm.streams.delete(Streams.Inbox);
  const bus = new EventBus(env.nc);
  await bus.publish("UserCreated", { user_id: "u1" });
  await bus.close();
  await waitFor(
    async () => (await jsm.consumers.info(Streams.Events, Consumers.router)).num_ack_pending > 0,
    "the router holds the event in flight",
    30_000,
    50,
  );
  return p;
}

test("jetbus router: an event in flight whose copy can never be acked does not hold the exit", async () => {
  const env = await startServer();
  try {
    const p = await routerWithParkedEvent(env);
    await killServerThenTerm(p, env.server);
    const { code } = await p.exited;
    assert.is(code, 0, p.output());
    assert.match(p.output(), /NATS is unreachable: not waiting/);
    assert.match(p.output(), /"unacked":1,"msg":"router stopped"/);
  } finally {
    await env.stop();
  }
});

test("jetbus router: the server goes away while the router waits for an in-flight copy: it stops waiting at once", async () => {
  const env = await startServer();
  try {
    const p = await routerWithParkedEvent(env);
    p.child.kill("SIGTERM");
    await p.waitOutput(/stopping: finishing in-flight events/, 30_000);
    await env.server.kill();
    await exited(p, PROMPT_MS);
    const { code } = await p.exited;
    assert.is(code, 0, p.output());
    assert.match(p.output(), /NATS is unreachable: not waiting/);
  } finally {
    await env.stop();
  }
});

test("jetbus console: SIGTERM with the server SIGKILLed and a live page open exits promptly", async () => {
  const env = await startServer();
  try {
    const p = spawnJetbus("console", ["console", "--config", writeConfig(), "--servers", env.server.url, "--port", "0", "--json"]);
    procs.push(p);
    await p.waitOutput(/"console":"http/, 90_000);
    const url = (
      JSON.parse(
        p
          .output()
          .split("\n")
          .find((l) => l.includes('"console":"http'))!,
      ) as { console: string }
    ).console;
    // a page's live feed: an open event stream, read by the console every tick from NATS
    const live = await fetch(new URL("/api/live", url));
    assert.is(live.status, 200);
    const reader = live.body!.getReader();
    await reader.read();
    await killServerThenTerm(p, env.server);
    const { code } = await p.exited;
    assert.is(code, 0, p.output());
    await reader.cancel().catch(() => undefined);
  } finally {
    await env.stop();
  }
});

test.run();
