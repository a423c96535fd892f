// A replica killed with kill -9 leaves its heartbeat entry: a restart on its host removes it at
// once, status on its host does not count it, and a 3-node cluster's status names a node that is down.
import { spawn } from "node:child_process";
import { hostname } from "node:os";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { configFrom } from "../../runtime/config/load.ts";
import { createLogger } from "../../runtime/log.ts";
import { buildStatusReport, renderStatus } from "../../runtime/operations/status.ts";
import { gatherStatusFacts } from "../../runtime/operations/status-facts.ts";
import { Heartbeat, openPresenceBucket, presenceKey, thisPlace } from "../../runtime/presence/mod.ts";
import { nodeNamed } from "../helpers/cluster-nodes.ts";
import { startCluster, startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const logger = createLogger({ level: "silent" });

/** The pid of a process that has exited: a killed replica's. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((r) => child.once("exit", r));
  return child.pid!;
}

async function putEntry(kv: KV, key: string, value: Record<string, unknown>): Promise<void> {
  const [role, name, replica] = key.split(".");
  await kv.put(key, JSON.stringify({ role, name, replica, startedAt: new Date().toISOString(), inFlight: 0, everyMs: 2000, ...value }));
}

test("a starting replica removes its actor's entries left by gone processes of its host; status does not count them meanwhile", async () => {
  const env = await startServer();
  try {
    const kv = await openPresenceBucket(env.nc, 1);
    const here = { host: hostname(), pidns: thisPlace().pidns };
    assert.ok(here.pidns, "Linux: the pid namespace is readable");
    const gone = await deadPid();
    await putEntry(kv, "actor.users.killed-0", { ...here, pid: gone });
    await putEntry(kv, "actor.users.elsewhere-0", { host: "another-host", pidns: here.pidns, pid: gone });
    await putEntry(kv, "actor.users.alive-0", { ...here, pid: process.pid });
    await putEntry(kv, "actor.orders.killed-0", { ...here, pid: gone });

    const config = configFrom({
      actors: [
        { name: "users", handler: "noop" },
        { name: "orders", handler: "noop" },
      ],
    });
    const jsm = await jetstreamManager(env.nc);
    // before any restart: status on this host already leaves out the killed ones
    const before = buildStatusReport(await gatherStatusFacts(env.nc, jsm, config));
    assert.equal(
      before.actors.map((a) => a.replicas.list.map((r) => r.id).sort()),
      [["alive-0", "elsewhere-0"], []],
    );

    const restarted = new Heartbeat(
      async () => kv,
      presenceKey("actor", "users", "restarted-0"),
      () => ({ role: "actor", name: "users", replica: "restarted-0", inFlight: 0 }),
      logger,
    );
    await restarted.start();
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
    assert.equal(
      keys.sort(),
      ["actor.orders.killed-0", "actor.users.alive-0", "actor.users.elsewhere-0", "actor.users.restarted-0"],
      "only its own actor's entry of a gone process of this host is removed",
    );
    const own = JSON.parse((await kv.get("actor.users.restarted-0"))!.string());
    assert.equal([own.host, own.pidns, own.pid, own.everyMs], [here.host, here.pidns, process.pid, 2000]);
    await restarted.stop();
  } finally {
    await env.stop();
  }
});

test("status on a 3-node cluster names a node that is down, within seconds of a kill -9", async () => {
  const env = await startCluster(3);
  try {
    const config = configFrom({ store: { replicas: 3 } });
    const store = config.store.stream;
    const jsm = await jetstreamManager(env.nc);
    await jsm.streams.add({ name: store, subjects: ["events.>"], num_replicas: 3 });
    const healthy = await waitFor(
      async () => {
        const r = buildStatusReport(await gatherStatusFacts(env.nc, jsm, config));
        return r.nats?.nodes.length === 3 && r.nats.nodes.every((n) => n.state === "ok") ? r : null;
      },
      "three nodes ok",
      30_000,
    );
    const connectedTo = healthy.nats!.connectedTo!;
    // the hard case, on purpose: the victim leads the store's group (a node other than ours). Its info
    // gets no answer until the group elects a new leader, and that leader has never heard from it.
    const leader = await waitFor(
      async () => {
        const l = (await jsm.streams.info(store)).cluster?.leader;
        if (l && l !== connectedTo) return l;
        await env.nc.request(`$JS.API.STREAM.LEADER.STEPDOWN.${store}`, undefined, { timeout: 5000 }).catch(() => undefined);
        return null;
      },
      `a leader of ${store} other than ${connectedTo}`,
      30_000,
      250,
    );
    const victim = await nodeNamed(env.cluster.nodes, leader);
    await victim.kill();
    const killedAt = Date.now();
    const renders: string[] = [];
    const down = await waitFor(
      async () => {
        const r = buildStatusReport(await gatherStatusFacts(env.nc, jsm, config));
        renders.push(renderStatus(r));
        return r.nats?.nodes.find((n) => n.name === leader && n.state === "down") ? r : null;
      },
      `${leader} reported down`,
      30_000,
      250,
    );
    const tookMs = Date.now() - killedAt;
    assert.ok(tookMs < 15_000, `reported down ${tookMs} ms after the kill`);
    // the first read after the kill asked the dead leader: the store is unknown, the status still renders
    assert.match(renders[0]!, new RegExp(`store: {3}${store}: no answer in \\d+\\.\\d s \\(leader election\\?\\)`));
    assert.match(renders[0]!, /^router: .*\n[^]*^nats: {4}connected to /m, "the rest still renders");
    assert.equal(down.nats!.nodes.filter((n) => n.state === "ok").length, 2, "the others are up");
    assert.match(
      renderStatus(down),
      new RegExp(`nats: {4}connected to \\S+; cluster \\S+: .*${leader} DOWN \\(no word for \\d+\\.\\d s\\)`),
    );
  } finally {
    await env.stop();
  }
});

test.run();
