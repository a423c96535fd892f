// A stateful actor's timer fires through the timer relay, which `jetbus router` runs (as `jetbus up`
// does): a deployment of router and actor processes, with no `up`, still gets its timers.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { Timers } from "../../runtime/actor/state/mod.ts";
import { createEvent } from "../../runtime/events/codec.ts";
import { Streams } from "../../runtime/topology.ts";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

test("jetbus router moves a fired timer into the store as its event", async () => {
  const env = await startServer();
  const dir = mkdtempSync(join(tmpdir(), "jetbus-router-timers-"));
  const procs: JetbusProcess[] = [];
  try {
    const config = join(dir, "jetbus.config.json");
    writeFileSync(config, JSON.stringify({ actors: [{ name: "audit", handler: "noop" }], routes: { rules: [] } }));
    const router = spawnJetbus("router", ["router", "--config", config, "--servers", env.server.url, "--no-http"]);
    procs.push(router);
    await router.waitOutput(/router running/, 90_000);
    const event = createEvent({ type: "PaymentTimedOut", data: { order_id: "B" }, source: "test" });
    const timers = await Timers.open(env.nc, { replicas: 1 });
    await timers.schedule("saga", event.id, new Date(Date.now() + 500), event);
    const jsm = await jetstreamManager(env.nc);
    const stored = await waitFor(
      () => jsm.streams.getMessage(Streams.Events, { last_by_subj: "events.PaymentTimedOut" }).catch(() => null),
      "the fired timer stored as an event",
      30_000,
      100,
    );
    assert.is(stored.header.get("ce-id"), event.id);
    await waitFor(async () => (await timers.pending("saga")) === 0, "no timer left pending", 10_000, 100);
  } finally {
    await stopAll(procs);
    await env.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
