// Horizontal scaling on a running 3-node cluster: an I/O-bound actor (20 ms per event) in one
// process, two more processes added without restarting anything raise its rate, and removing them
// again (SIGTERM) loses nothing: every event handled exactly once in the end.
import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { configFrom } from "../../runtime/config/load.ts";
import { check, formatCheck, type AckedRecord } from "../../runtime/cluster/checker.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { retryTransient } from "../../runtime/nats/connect.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { Consumers, Streams } from "../../runtime/topology.ts";
import { writeConfig } from "../fixtures/actor-process.ts";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { LOG_STREAM } from "../fixtures/probe-handler.ts";
import { provisionCluster, retryPlacement } from "../helpers/cluster-nodes.ts";
import { startCluster } from "../helpers/nats.ts";
import { readLogStream } from "../helpers/testlog.ts";
import { waitFor } from "../helpers/wait.ts";

const ACTOR = "io-bound";
const Run = {
  windowMs: 5000,
  /** Backlog before each window: more than the actor can finish in it, so every window measures a busy actor. */
  backlogOne: 400,
  backlogThree: 1000,
  /** A behaviour check, not a performance target: 3 processes must beat 1 by a clear margin. */
  minSpeedup: 1.5,
} as const;

// one handler at a time per process, waiting 20 ms: the rate is bound by waiting, not by this 2-core machine's CPU
const config = configFrom({
  store: { replicas: 3 },
  actors: [{ name: ACTOR, handler: "probe", concurrency: 1, ack_wait: "5s", options: { delay_ms: 20 } }],
  routes: { rules: [{ name: "work", match: { type: "Work" }, to: [ACTOR] }] },
});

/** Events still waiting for the actor (not yet acked). */
async function remaining(jsm: JetStreamManager): Promise<number> {
  const ci = await retryTransient(() => jsm.consumers.info(Streams.Inbox, Consumers.actor(ACTOR)));
  return ci.num_pending + ci.num_ack_pending;
}

/** Events the actor finished within one window, measured from its durable's backlog. */
async function handledOver(jsm: JetStreamManager, ms: number): Promise<number> {
  const before = await remaining(jsm);
  const t0 = Date.now();
  await waitFor(() => Date.now() - t0 >= ms, "the window to pass", ms + 1000, 50);
  return before - (await remaining(jsm));
}

test("adding actor processes raises an I/O-bound actor's rate; removing them with SIGTERM loses nothing", async () => {
  const started = Date.now();
  const mark = (what: string) => console.log(`  ${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);
  const { cluster, nc, stop } = await startCluster(3);
  const processes: JetbusProcess[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    await provisionCluster(nc, config);
    await retryPlacement(() => jsm.streams.add({ name: LOG_STREAM, subjects: ["testlog.>"], num_replicas: 3 }));
    const configFile = writeConfig(config);
    const servers = ["--servers", cluster.urls.join(",")];
    const actorProcess = (i: number) =>
      spawnJetbus(`${ACTOR}-${i}`, ["actor", ACTOR, ...servers, "--config", configFile, "--replicas", "1", "--grace", "10s"]);

    const router = spawnJetbus("router", ["router", ...servers, "--config", configFile]);
    const first = actorProcess(1);
    processes.push(router, first);
    await Promise.all([router.waitOutput(/router running/), first.waitOutput(/actor running/)]);

    // tops the actor's backlog up to `target` events and waits until the router has routed them all
    const pub = new BulkPublisher(nc);
    const acked: AckedRecord[] = [];
    let n = 0;
    const topUp = async (target: number) => {
      const missing = Math.max(0, target - (await remaining(jsm)));
      await Promise.all(
        Array.from({ length: missing }, () => {
          const event = createEvent({ type: "Work", data: { n: n++ }, source: "scaling-test" });
          return pub.publish(encodeEvent(event)).then(() => void acked.push({ id: event.id, to: [ACTOR] }));
        }),
      );
      await waitFor(
        async () => {
          const ci = await jsm.consumers.info(Streams.Events, Consumers.router);
          return ci.num_pending + ci.num_ack_pending === 0;
        },
        "every event routed to the actor's inbox",
        60_000,
        50,
      );
    };

    await topUp(Run.backlogOne);
    mark("backlog routed; one actor process working");
    const one = await handledOver(jsm, Run.windowMs);
    mark(`1 process: ${one} events in ${Run.windowMs} ms`);

    const added = [actorProcess(2), actorProcess(3)];
    processes.push(...added);
    await Promise.all(added.map((p) => p.waitOutput(/actor running/)));
    await topUp(Run.backlogThree);
    const three = await handledOver(jsm, Run.windowMs);
    mark(`3 processes: ${three} events in ${Run.windowMs} ms (x${(three / Math.max(1, one)).toFixed(2)})`);
    assert.ok((await remaining(jsm)) > 0, "the backlog lasted through both windows (otherwise the second window under-counts)");
    assert.ok(one > 0, "the single process made progress");
    assert.ok(three > Run.minSpeedup * one, `3 processes handled ${three} vs ${one} with 1: more than x${Run.minSpeedup}`);

    // scale back in: the added processes finish what they hold and leave
    for (const p of added) p.child.kill("SIGTERM");
    const exits = await Promise.all(added.map((p) => p.exited));
    for (const [i, e] of exits.entries()) assert.is(e.code, 0, `${added[i]!.label} exits 0 on SIGTERM:\n${added[i]!.output()}`);
    mark("added processes stopped with SIGTERM");
    assert.ok(first.running() && router.running(), "nothing else was restarted");

    await waitFor(async () => (await remaining(jsm)) === 0, "the first process finishing the backlog", 120_000, 250);
    mark("backlog done");

    const log = await readLogStream(nc);
    const seen = log.filter((e) => e.phase === "end").map((e) => ({ actor: e.actor, id: e.eventId }));
    const result = check({ acked, seen, unordered: [ACTOR] });
    console.log(formatCheck(result).replace(/^/gm, "  "));
    const t = result.targets.find((x) => x.name === ACTOR)!;
    // who handled a duplicated event, when, on which attempt: what a failure here needs to be understood
    for (const id of t.examples.duplicated)
      for (const e of log.filter((x) => x.eventId === id))
        console.log(`  ${id} ${e.phase} ${e.replica} attempt ${e.attempt} at +${e.at - started} ms`);
    assert.is(t.lost, 0, "lost");
    assert.is(t.duplicated, 0, "handled twice");
    assert.is(t.ok, acked.length, "every event handled");
    assert.ok(result.valid);

    await pub.close();
    await stopAll([first, router]);
  } finally {
    await stopAll(processes, 1000);
    await stop();
  }
});

test.run();
