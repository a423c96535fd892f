import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { waitReady } from "../fixtures/actor-process.ts";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { StateStore } from "../../runtime/actor/state/store.ts";
import { Timers } from "../../runtime/actor/state/timers.ts";
import { EventBus, EventStore } from "../../runtime/store/mod.ts";
import { Consumers, Streams } from "../../runtime/topology.ts";

const example = fileURLToPath(new URL("../../examples/order-saga/", import.meta.url));

let env: Awaited<ReturnType<typeof startServer>>;
const procs: JetbusProcess[] = [];
test.after(async () => {
  await stopAll(procs, 5000);
  await env?.stop();
});

type OrderState = { status: string; timer?: string };

test("order saga: a payment cancels the timeout; without one the timer fires once across a SIGKILL and restart, and the order is cancelled once", async () => {
  env = await startServer();
  const dir = mkdtempSync(join(tmpdir(), "jetbus-saga-"));
  const config = JSON.parse(readFileSync(join(example, "jetbus.config.json"), "utf8"));
  config.actors[0].module = join(example, "order-saga.ts");
  config.actors[0].options.payment_timeout = "8s";
  config.observability = { log_level: "warn" };
  const configFile = join(dir, "jetbus.config.json");
  writeFileSync(configFile, JSON.stringify(config));
  const up = async () => {
    const p = spawnJetbus("up", ["up", "--config", configFile, "--servers", env.server.url, "--no-http"]);
    procs.push(p);
    await waitReady(env.nc, p, "order-saga");
    return p;
  };
  const bus = new EventBus(env.nc, { source: "shop" });
  const first = await up();
  const placedB = await bus.publish("OrderPlaced", { order_id: "B", total: 20 });
  const timers = await Timers.open(env.nc, { replicas: 1 });
  await waitFor(async () => (await timers.pending("order-saga")) === 1, "order B's payment timer to be stored", 60_000, 50);
  first.child.kill("SIGKILL");
  await first.exited;

  await up();
  const placedA = await bus.publish("OrderPlaced", { order_id: "A", total: 10 });
  await bus.publish("PaymentConfirmed", { order_id: "A" });
  const state = await StateStore.bind(env.nc, "order-saga");
  const status = async (order: string) => ((await state.read(order)).value as OrderState | undefined)?.status;
  await waitFor(async () => (await status("A")) === "paid" && (await status("B")) === "cancelled", "A paid and B cancelled", 90_000, 100);

  // settled: no timer left anywhere, the relay and the saga's durables have nothing in flight
  const jsm = await jetstreamManager(env.nc);
  await waitFor(
    async () => {
      const t = await jsm.streams.info(Streams.Timers);
      const relay = await jsm.consumers.info(Streams.Timers, Consumers.timerRelay);
      return t.state.messages === 0 && relay.num_ack_pending === 0 && relay.num_pending === 0;
    },
    "the timer stream to drain",
    30_000,
    100,
  );
  const store = new EventStore(env.nc);
  const ofType = async (type: string) => (await store.getByType(type, { limit: 1000 })).map((s) => s.event);
  const timedOut = await ofType("PaymentTimedOut");
  assert.equal(
    timedOut.map((e) => e.id),
    [`${placedB.id}:t1`],
    "only B's timer fired, once",
  );
  assert.equal(timedOut[0]!.data, { order_id: "B" });
  assert.equal(
    (await ofType("OrderCancelled")).map((e) => e.data),
    [{ order_id: "B", reason: "payment timeout" }],
  );
  assert.equal(
    (await ofType("OrderConfirmed")).map((e) => e.data),
    [{ order_id: "A" }],
  );
  assert.equal((await ofType("PaymentRequested")).map((e) => e.id).sort(), [`${placedA.id}:e1`, `${placedB.id}:e1`].sort());
  const history = await state.history("B");
  assert.equal(
    history.map((h) => (h.value as OrderState | undefined)?.status),
    ["awaiting-payment", "cancelled"],
  );
  assert.equal(
    history.map((h) => h.eventId),
    [placedB.id, `${placedB.id}:t1`],
  );
});

test.run();
