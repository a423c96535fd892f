// A service started while the JetStream API does not answer (the meta leader's node and one more
// paused with SIGSTOP in a 3-node cluster: no quorum, so no leader until they resume) waits,
// logging each attempt, and runs once the nodes are back: `jetbus router` and `jetbus actor`.
import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { jetstream } from "@nats-io/jetstream";
import { retryTransient } from "../../runtime/nats/connect.ts";
import type { NatsServer } from "../../runtime/nats/server.ts";
import { writeConfig } from "../fixtures/actor-process.ts";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { ensureLogStream } from "../fixtures/probe-handler.ts";
import { metaLeaderNode, provisionCluster } from "../helpers/cluster-nodes.ts";
import { startCluster } from "../helpers/nats.ts";
import { readLogStream } from "../helpers/testlog.ts";
import { waitFor } from "../helpers/wait.ts";

const config = configFrom({
  store: { replicas: 3 },
  actors: [{ name: "waits", handler: "probe" }],
  routes: { rules: [{ name: "waits", match: { type: "Waited" }, to: ["waits"] }] },
});

/** Log lines of a process that say a start-up step is being tried again. */
function retryLines(p: JetbusProcess): number {
  return p
    .output()
    .split("\n")
    .filter((l) => /start-up (step got no answer|failed for now)/.test(l)).length;
}

test("router and actor started while JetStream API requests time out wait, logging each attempt, then run once the nodes resume", async () => {
  const { cluster, nc, stop } = await startCluster(3, { extraConfig: "http_port: -1" });
  const processes: JetbusProcess[] = [];
  const paused: NatsServer[] = [];
  try {
    await provisionCluster(nc, config);
    await ensureLogStream(nc);
    const configFile = writeConfig(config);
    // the meta leader and one more: the third node alone has no quorum, so no new leader is elected
    const leader = await metaLeaderNode(cluster.nodes);
    paused.push(
      leader,
      cluster.nodes.find((n) => n !== leader)!,
    );
    for (const n of paused) process.kill(n.pid!, "SIGSTOP");
    const live = cluster.nodes.find((n) => !paused.includes(n))!;
    const servers = ["--servers", live.url, "--no-http"];
    const env = { JETBUS_LOG_LEVEL: "warn" };
    const router = spawnJetbus("router", ["router", "--config", configFile, ...servers], env);
    const actor = spawnJetbus("actor", ["actor", "waits", "--config", configFile, ...servers], env);
    processes.push(router, actor);

    // both keep trying and say so, attempt after attempt, instead of exiting on the first timeout
    await waitFor(() => retryLines(router) >= 3 && retryLines(actor) >= 3, "three retry lines from each process", 90_000, 200);
    assert.ok(router.running(), `router still running:\n${router.output()}`);
    assert.ok(actor.running(), `actor still running:\n${actor.output()}`);
    assert.not.match(router.output(), /router running/);
    assert.not.match(actor.output(), /actor running/);

    for (const n of paused.splice(0)) process.kill(n.pid!, "SIGCONT");
    await router.waitOutput(/router running/, 90_000);
    await actor.waitOutput(/actor running/, 90_000);

    // and they work: an event published now is routed and handled
    const event = createEvent({ type: "Waited", data: { n: 1 }, source: "test" });
    const wire = encodeEvent(event);
    await retryTransient(() => jetstream(nc).publish(wire.subject, wire.data, { headers: wire.headers }), { timeoutMs: 60_000 });
    await waitFor(
      async () => (await readLogStream(nc)).some((l) => l.eventId === event.id && l.phase === "end"),
      "the event handled by the actor",
      60_000,
      250,
    );
  } finally {
    for (const n of paused) process.kill(n.pid!, "SIGCONT");
    await stopAll(processes);
    await stop();
  }
});

test.run();
