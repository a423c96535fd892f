// Failover with nothing lost: a 3-node cluster, a router and two actors as separate processes,
// events published continuously while the store's leader node is SIGKILLed, then an actor
// replica process, then the node restarted. The shipped consistency checker judges the run.
import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { configFrom } from "../../runtime/config/load.ts";
import { check, formatCheck, type AckedRecord } from "../../runtime/cluster/checker.ts";
import { storedRecords } from "../../runtime/cluster/store-records.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { retryTransient } from "../../runtime/nats/connect.ts";
import type { NatsServer } from "../../runtime/nats/server.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { Consumers, Streams } from "../../runtime/topology.ts";
import { writeConfig } from "../fixtures/actor-process.ts";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { LOG_STREAM } from "../fixtures/probe-handler.ts";
import { provisionCluster, retryPlacement, streamLeaderNode, waitCaughtUp } from "../helpers/cluster-nodes.ts";
import { startCluster } from "../helpers/nats.ts";
import { readLogStream } from "../helpers/testlog.ts";
import { waitFor } from "../helpers/wait.ts";

const Run = {
  events: 600,
  /** Events sent per tick, and the tick: ~60 events/s, so publishing spans about ten seconds. */
  perTick: 3,
  tickMs: 50,
  keys: 12,
  /** Events sent when the faults happen (sent, not acked: acks pause during an election and then come in a burst). */
  killLeaderAt: 150,
  killActorAt: 300,
  restartNodeAt: 450,
} as const;

const Actors = { Idempotent: "idem", Ordered: "ordered" } as const;

const config = configFrom({
  store: { replicas: 3 },
  actors: [
    // ack_wait 2s: what a killed replica had in flight comes back quickly; many attempts: an election is not a reason to dead-letter
    {
      name: Actors.Idempotent,
      handler: "probe",
      concurrency: 8,
      ack_wait: "2s",
      retry: { max_attempts: 50, backoff: ["100ms", "500ms"] },
      options: { delay_ms: 5, effect_key: "event" },
    },
    {
      name: Actors.Ordered,
      handler: "probe",
      ack_wait: "2s",
      ordered: { key: "correlationid", partitions: 4 },
      retry: { max_attempts: 50, backoff: ["100ms", "500ms"] },
      options: { delay_ms: 2 },
    },
  ],
  routes: { rules: [{ name: "failover", match: { type: "Failover" }, to: [Actors.Idempotent, Actors.Ordered] }] },
});
const durables = [Consumers.actor(Actors.Idempotent), ...Array.from({ length: 4 }, (_, k) => Consumers.actorPartition(Actors.Ordered, k))];

test("SIGKILL the store leader node, then an actor replica, then restart the node: nothing lost, nothing twice, order kept, node caught up", async () => {
  const started = Date.now();
  const { cluster, nc, stop } = await startCluster(3);
  const processes: JetbusProcess[] = [];
  const mark = (what: string) => console.log(`  ${((Date.now() - started) / 1000).toFixed(1)}s ${what}`);
  try {
    const jsm = await jetstreamManager(nc);
    mark("3 nodes up, JetStream answering");
    await provisionCluster(nc, config);
    // a duplicate window longer than the run: effects keyed by event id stay deduplicated throughout
    await retryPlacement(() =>
      jsm.streams.add({ name: LOG_STREAM, subjects: ["testlog.>"], num_replicas: 3, duplicate_window: 10 * 60 * 1e9 }),
    );
    mark("cluster up, streams at R3");

    const configFile = writeConfig(config);
    const servers = ["--servers", cluster.urls.join(",")];
    const router = spawnJetbus("router", ["router", ...servers, "--config", configFile, "--ack-wait", "2s"]);
    const actorProcess = (name: string, i: number) =>
      spawnJetbus(`${name}-${i}`, ["actor", name, ...servers, "--config", configFile, "--replicas", "1", "--grace", "5s"]);
    const idem = [actorProcess(Actors.Idempotent, 1), actorProcess(Actors.Idempotent, 2)];
    const ordered = [actorProcess(Actors.Ordered, 1), actorProcess(Actors.Ordered, 2)];
    processes.push(router, ...idem, ...ordered);
    await Promise.all([router.waitOutput(/router running/), ...[...idem, ...ordered].map((p) => p.waitOutput(/actor running/))]);
    mark("router and 4 actor processes running");

    // ---- publish continuously; faults are triggered by how many acks came back
    const pub = new BulkPublisher(nc, { ackTimeoutMs: 2000, maxAttempts: 40 });
    const acked: Array<AckedRecord & { seq: number }> = [];
    const failed: string[] = [];
    let killedNode: NatsServer | undefined;
    const faults: Promise<void>[] = [];
    const pending: Promise<void>[] = [];
    const fault = (n: number) => {
      if (n === Run.killLeaderAt)
        faults.push(
          (async () => {
            killedNode = await streamLeaderNode(jsm, cluster.nodes, Streams.Events);
            await killedNode.kill();
            mark(`SIGKILLed the ${Streams.Events} leader node (port ${killedNode.port})`);
          })(),
        );
      if (n === Run.killActorAt) {
        for (const p of [idem[0]!, ordered[0]!]) p.child.kill("SIGKILL");
        mark(`SIGKILLed one replica process of each actor (pids ${idem[0]!.pid}, ${ordered[0]!.pid})`);
      }
      if (n === Run.restartNodeAt)
        faults.push(
          (async () => {
            await faults[0];
            await killedNode!.restart();
            mark("restarted the killed node");
          })(),
        );
    };
    for (let n = 0; n < Run.events; n++) {
      const key = `key-${n % Run.keys}`;
      const event = createEvent({ type: "Failover", data: { n, key }, correlationid: key, source: "failover-test" });
      pending.push(
        pub.publish(encodeEvent(event)).then(
          (ack) => {
            acked.push({ id: event.id, key, to: [Actors.Idempotent, Actors.Ordered], seq: ack.seq });
          },
          (err: Error) => void failed.push(`${event.id}: ${err.message}`),
        ),
      );
      fault(n + 1);
      if ((n + 1) % Run.perTick === 0) await new Promise((r) => setTimeout(r, Run.tickMs));
    }
    await Promise.all(pending);
    await pub.close();
    await Promise.all(faults);
    mark(`published ${Run.events}: ${acked.length} acked, ${failed.length} failed`);
    assert.ok(killedNode, "the leader kill happened during publishing");

    // ---- everything routed and handled: no pending or unacked message on any durable
    let progress = "";
    await waitFor(
      async () => {
        const infos = [
          await jsm.consumers.info(Streams.Events, Consumers.router),
          await jsm.consumers.info(Streams.Events, Consumers.routerOrdered),
        ];
        for (const d of durables) infos.push(await jsm.consumers.info(Streams.Inbox, d));
        const busy = infos.filter((ci) => ci.num_pending + ci.num_ack_pending > 0);
        const now = busy.map((ci) => `${ci.name} ${ci.num_pending}/${ci.num_ack_pending}`).join(", ");
        if (now !== progress && busy.length) mark(`waiting (pending/unacked): ${(progress = now)}`);
        return busy.length === 0;
      },
      "router and actors drained",
      90_000,
      250,
    );
    mark("router and actors drained");

    for (const stream of [Streams.Events, Streams.Inbox, LOG_STREAM]) await waitCaughtUp(jsm, stream);
    mark("restarted node caught up (all replicas current, lag 0)");

    // ---- the consistency checker, as an operator would run it
    const stored = await retryTransient(() => storedRecords(nc, Streams.Events));
    const log = await readLogStream(nc);
    const seen = log.filter((e) => e.phase === "end").map((e) => ({ actor: e.actor, id: e.eventId }));
    // ack order = store order: a resend answered `duplicate` resolves late but names its original sequence
    const ackOrder = [...acked].sort((a, b) => a.seq - b.seq);
    const result = check({ acked: ackOrder, stored, seen, unordered: [Actors.Idempotent], duplicatesAllowed: [Actors.Ordered] });
    console.log(formatCheck(result).replace(/^/gm, "  "));
    const t = (name: string) => result.targets.find((x) => x.name === name)!;
    // what a failure needs to be understood: each duplicate's handlings, and what the processes complained about
    for (const id of result.targets.flatMap((x) => x.examples.duplicated)) {
      console.log(
        `  handlings of ${id}:`,
        log
          .filter((e) => e.eventId === id)
          .map((e) => `${e.actor} ${e.phase} ${e.replica} attempt ${e.attempt} at +${e.at - started}ms`)
          .join("; "),
      );
    }
    for (const p of processes) {
      const complaints = p
        .output()
        .split("\n")
        .filter((l) => /"level":(40|50|60)/.test(l))
        .map((l) => JSON.parse(l) as { msg: string; err?: string })
        .map((x) => (x.err ? `${x.msg} (${x.err})` : x.msg));
      const counted = Object.entries(complaints.reduce<Record<string, number>>((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {}));
      if (counted.length) console.log(`  ${p.label} warnings: ${counted.map(([m, n]) => `${n}x ${m}`).join("; ")}`);
    }
    for (const name of ["store", Actors.Idempotent, Actors.Ordered]) {
      assert.is(t(name).lost, 0, `${name}: lost`);
      assert.is(t(name).unexpected, 0, `${name}: unexpected`);
    }
    assert.is(t("store").duplicated, 0, "store: duplicated");
    assert.is(t("store").outOfOrder, 0, "store: out of order");
    assert.is(t(Actors.Idempotent).duplicated, 0, "idempotent actor: duplicated");
    assert.is(t(Actors.Ordered).outOfOrder, 0, "ordered actor: out of order per key");
    assert.ok(result.valid, "checker verdict");

    // The idempotent actor's runtime side: once a handling completed, the processed marker must stop
    // any later one. The only exception at-least-once allows: the process was SIGKILLed after the
    // effect and before its marker was written. Anything else ran twice for no reason.
    const killedPid = idem[0]!.pid;
    const idemLog = log.filter((e) => e.actor === Actors.Idempotent);
    const firstEnd = new Map<string, { at: number; pid: number }>();
    for (const e of idemLog) if (e.phase === "end" && !firstEnd.has(e.eventId)) firstEnd.set(e.eventId, { at: e.at, pid: e.pid });
    const rerun = idemLog.filter((e) => e.phase === "start" && (firstEnd.get(e.eventId)?.at ?? Infinity) < e.at);
    const unexplained = rerun.filter((e) => firstEnd.get(e.eventId)!.pid !== killedPid);
    const starts = idemLog.filter((e) => e.phase === "start").length;
    console.log(
      `  ${Actors.Idempotent}: ${starts} handler starts for ${acked.length} events; ${rerun.length} re-run after a completed handling (${rerun.length - unexplained.length} explained by the SIGKILLed process)`,
    );
    assert.equal(
      unexplained.map((e) => e.eventId),
      [],
      "re-runs after a completed handling that no crash explains",
    );

    await stopAll(processes.filter((p) => p.running()));
    mark("stopped");
  } finally {
    await stopAll(processes, 1000);
    await stop();
  }
});

test.run();
