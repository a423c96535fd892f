// The one consumer of actors, router lanes, the indexer and the timer relay: at most `concurrency`
// deliveries in flight (the others wait in arrival order), acks batched, and a stop that lets
// deliveries finish within the grace period and reports what it had to abandon.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { ConsumerRunner } from "../../runtime/consumer/runner.ts";
import { createLogger } from "../../runtime/log.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const logger = createLogger({ level: "silent", pretty: false });

async function withStream(n: number, fn: (env: Awaited<ReturnType<typeof startServer>>) => Promise<void>): Promise<void> {
  const env = await startServer();
  try {
    const jsm = await jetstreamManager(env.nc);
    await jsm.streams.add({ name: "RUN", subjects: ["run.>"] });
    await jsm.consumers.add("RUN", { durable_name: "w", ack_policy: AckPolicy.Explicit, ack_wait: 60_000_000_000 });
    const js = jetstream(env.nc);
    for (let i = 0; i < n; i++) await js.publish(`run.${i}`, new TextEncoder().encode(String(i)));
    await fn(env);
  } finally {
    await env.stop();
  }
}

test("at most `concurrency` deliveries run at once; those waiting start in arrival order and know how long they waited; every one is acked", async () => {
  await withStream(10, async (env) => {
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const waited: number[] = [];
    const runner: ConsumerRunner = new ConsumerRunner({
      nc: env.nc,
      stream: "RUN",
      durables: ["w"],
      concurrency: 2,
      pullBatch: 10,
      ackWaitMs: 60_000,
      logger,
      handle: async (m: JsMsg, taken) => {
        order.push(m.seq);
        waited.push(taken.waitedMs);
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        runner.ack(m);
      },
    });
    await runner.start();
    const jsm = await jetstreamManager(env.nc);
    await waitFor(async () => (await jsm.consumers.info("RUN", "w")).ack_floor.stream_seq === 10, "all ten acked");
    assert.is(peak, 2);
    assert.equal(order, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "one durable, one client: started in stream order");
    assert.ok(
      waited.slice(2).some((ms) => ms >= 15),
      `deliveries that found every slot busy waited (${waited.join(" ")})`,
    );
    assert.equal(await runner.stop(1000), { finished: true, abandoned: 0 });
  });
});

test("freeSlot: a delivery that gives its slot back lets the next one run before it settles; stop still waits for it", async () => {
  await withStream(3, async (env) => {
    const started: number[] = [];
    let settle!: () => void;
    const settled = new Promise<void>((r) => (settle = r));
    const runner: ConsumerRunner = new ConsumerRunner({
      nc: env.nc,
      stream: "RUN",
      durables: ["w"],
      concurrency: 1,
      pullBatch: 3,
      ackWaitMs: 60_000,
      logger,
      handle: async (m: JsMsg, taken) => {
        started.push(m.seq);
        taken.freeSlot();
        taken.freeSlot(); // a second call must not free a slot it no longer holds
        await settled; // what follows the slot's part (an actor's marker write) is still in flight
        runner.ack(m);
      },
    });
    await runner.start();
    await waitFor(() => started.length === 3, "all three started with one slot, none settled");
    assert.is(runner.inFlight, 3, "unsettled deliveries still count as in flight");
    const stopping = runner.stop(10_000);
    settle();
    assert.equal(await stopping, { finished: true, abandoned: 0 });
    const jsm = await jetstreamManager(env.nc);
    await waitFor(async () => (await jsm.consumers.info("RUN", "w")).ack_floor.stream_seq === 3, "all three acked");
  });
});

test("freeSlot called twice frees one slot: the limit holds", async () => {
  await withStream(6, async (env) => {
    let running = 0;
    let peak = 0;
    const runner: ConsumerRunner = new ConsumerRunner({
      nc: env.nc,
      stream: "RUN",
      durables: ["w"],
      concurrency: 2,
      pullBatch: 6,
      logger,
      handle: async (m: JsMsg, taken) => {
        peak = Math.max(peak, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        taken.freeSlot();
        taken.freeSlot();
        runner.ack(m);
      },
    });
    await runner.start();
    const jsm = await jetstreamManager(env.nc);
    await waitFor(async () => (await jsm.consumers.info("RUN", "w")).ack_floor.stream_seq === 6, "all six acked");
    assert.is(peak, 2);
    await runner.stop(1000);
  });
});

test("stop: a delivery still running when the grace period ends is abandoned (onAbandon runs), one that finishes in time is acked", async () => {
  await withStream(2, async (env) => {
    let release!: () => void;
    const hung = new Promise<void>((r) => (release = r));
    const runner: ConsumerRunner = new ConsumerRunner({
      nc: env.nc,
      stream: "RUN",
      durables: ["w"],
      concurrency: 4,
      pullBatch: 4,
      logger,
      handle: async (m: JsMsg) => {
        if (m.seq === 1) await hung; // never ends on its own
        runner.ack(m);
      },
    });
    await runner.start();
    const jsm = await jetstreamManager(env.nc);
    await waitFor(
      async () => runner.inFlight === 1 && (await jsm.consumers.info("RUN", "w")).num_ack_pending === 1,
      "seq 2 acked, seq 1 running",
    );
    let abandonedSeen = 0;
    const result = await runner.stop(200, (n) => (abandonedSeen = n));
    assert.equal(result, { finished: false, abandoned: 1 });
    assert.is(abandonedSeen, 1);
    release();
  });
});

test.run();
