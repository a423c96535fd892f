import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { startRuntime, type Runtime } from "../../runtime/app/bootstrap.ts";
import { configFrom } from "../../runtime/config/load.ts";
import type { JetbusConfig } from "../../runtime/config/types.ts";
import { createLogger } from "../../runtime/log.ts";
import { EventBus, ensureEventStream, StoreAccess } from "../../runtime/store/mod.ts";
import { startProjections, type RunningProjections } from "../../runtime/projection/start.ts";
import { ProjectionReader } from "../../runtime/projection/reader.ts";
import { projectionStatuses } from "../../runtime/projection/status.ts";
import { ReadModel } from "../../runtime/projection/model.ts";
import { clearUpcasters, useUpcasters } from "../../runtime/events/versions/registry.ts";
import { expectedBalances, type Balance, type Moved } from "../fixtures/projection-modules/balances.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/projection-modules/", import.meta.url));

function config(projections: Array<{ name: string; module: string }>): JetbusConfig {
  return configFrom({ projections, observability: { log_level: "warn" } }, "(test)");
}

let env: Awaited<ReturnType<typeof startServer>>;
const published: Array<{ type: string; data: Moved }> = [];
let lastSeq = 0;

async function publish(bus: EventBus, n: number, accounts: number, o: { closeEvery?: number; noise?: boolean } = {}): Promise<void> {
  const inputs: Array<{ type: string; data: Moved }> = [];
  for (let i = 0; i < n; i++) {
    const account = `acct-${i % accounts}`;
    if (o.closeEvery && i % o.closeEvery === o.closeEvery - 1) inputs.push({ type: "Closed", data: { account, amount: 0 } });
    else inputs.push({ type: i % 3 === 0 ? "Withdrawn" : "Deposited", data: { account, amount: (i % 7) + 1 } });
    // events the projection leaves out: another type, and one without the key
    if (o.noise && i % 50 === 0) inputs.push({ type: "Audited", data: { account, amount: 1 } }, { type: "Deposited", data: { amount: 5 } });
  }
  const results = await bus.publishMany(inputs);
  for (const [i, r] of results.entries()) {
    if (r.status !== "fulfilled") throw r.reason;
    published.push(inputs[i]!);
    lastSeq = Math.max(lastSeq, r.value.seq);
  }
}

function runtime(cfg: JetbusConfig, name: string): Promise<Runtime> {
  return startRuntime({
    servers: env.server.url,
    config: cfg,
    name,
    projectDir: FIXTURES,
    logger: createLogger({ level: process.env.JETBUS_TEST_LOG ?? "silent", pretty: false }),
  });
}

/** Resolves once the runner on the version readers use has applied every event up to `seq`. */
async function reached(running: RunningProjections, seq: number): Promise<void> {
  await waitFor(() => running.projections[0]!.current, "a runner");
  await running.projections[0]!.current!.reached(seq);
}

async function modelOf(name = "balances"): Promise<Map<string, Balance>> {
  const reader = await ProjectionReader.open<Balance>(env.nc, name, { follow: false });
  return new Map((await reader.list()).map((e) => [e.key, e.value]));
}

test.before(async () => {
  env = await startServer();
  await ensureEventStream(await jetstreamManager(env.nc), configFrom({}, "(t)").store, StoreAccess.Create);
});
test.after(async () => env?.stop());

test("a live projection folds the chosen events per key, leaves out other types and keyless events, deletes on null, readable by get and list", async () => {
  const bus = new EventBus(env.nc);
  await publish(bus, 600, 12, { closeEvery: 97, noise: true });
  const rt = await runtime(config([{ name: "balances", module: "./balances.ts" }]), "proj-1");
  const running = await startProjections(rt);
  try {
    await reached(running, lastSeq);
    assert.equal(await modelOf(), expectedBalances(published));
    const reader = await ProjectionReader.open<Balance>(env.nc, "balances");
    const one = await reader.get("acct-1");
    assert.ok(one, "acct-1 holds a state");
    assert.equal(one!.value, expectedBalances(published).get("acct-1"));
    assert.ok(one!.seq > 0 && one!.eventId, "the entry names the store sequence and id of its last event");
    assert.is(await reader.get("nobody"), undefined);
    reader.close();
    // live: more events after it caught up
    await publish(bus, 100, 12);
    await reached(running, lastSeq);
    assert.equal(await modelOf(), expectedBalances(published));
  } finally {
    await running.stop();
    await rt.dispose();
  }
});

test("a restart re-reads from an older position (as after a crash) and applies nothing twice", async () => {
  const bus = new EventBus(env.nc);
  const rt = await runtime(config([{ name: "balances", module: "./balances.ts" }]), "proj-2");
  // the position key set back to the start: every event is delivered again and must be recognised per key
  await (await ReadModel.bind(env.nc, "balances", 1)).setPosition(0);
  await publish(bus, 300, 12);
  const running = await startProjections(rt);
  try {
    await reached(running, lastSeq);
    assert.equal(await modelOf(), expectedBalances(published));
    assert.is(running.projections[0]!.progress!.applied, 300, "only the 300 new events were applied");
  } finally {
    await running.stop();
    await rt.dispose();
  }
});

test("two processes running the same projection at once: every event once", async () => {
  const bus = new EventBus(env.nc);
  const cfg = config([{ name: "balances", module: "./balances.ts" }]);
  const a = await runtime(cfg, "proj-a");
  const b = await runtime(cfg, "proj-b");
  const ra = await startProjections(a);
  const rb = await startProjections(b);
  try {
    await publish(bus, 2000, 8);
    await reached(ra, lastSeq);
    await reached(rb, lastSeq);
    assert.equal(await modelOf(), expectedBalances(published));
  } finally {
    await ra.stop();
    await rb.stop();
    await a.dispose();
    await b.dispose();
  }
});

test("status: version, position and lag; a failing evolve stalls the projection at that event and status says where and why", async () => {
  const bus = new EventBus(env.nc);
  const cfg = config([{ name: "poisoned", module: "./poisoned.ts" }]);
  const before = await bus.publish("Deposited", { account: "p1", amount: 2 });
  const bad = await bus.publish("Deposited", { account: "p2", amount: 3, poison: true });
  await bus.publish("Deposited", { account: "p1", amount: 4 });
  const rt = await runtime(cfg, "proj-poison");
  const running = await startProjections(rt);
  try {
    const [status] = await waitFor(async () => {
      const s = await projectionStatuses(env.nc, cfg, ["poisoned"]);
      return s[0]?.stalled ? s : undefined;
    }, "the stall reported");
    assert.is(status!.stalled!.seq, bad.seq);
    assert.match(status!.stalled!.error, /cannot apply/);
    assert.is(status!.version, 1);
    assert.ok(
      status!.position! >= before.seq && status!.position! < bad.seq,
      `position ${status!.position} stops before the failing event`,
    );
    assert.ok(status!.lag! >= 1, "the failing event and those after count as lag");
    assert.is((await modelOf("poisoned")).get("p2"), undefined, "nothing of the failing event's key was written");
  } finally {
    await running.stop();
    await rt.dispose();
  }
  // balances reads Deposited too, and no runner of it ran since: the three are its lag
  const [balances] = await projectionStatuses(env.nc, config([{ name: "balances", module: "./balances.ts" }]), ["balances"]);
  assert.is(balances!.lag, 3);
  assert.ok(balances!.position! >= lastSeq);
  assert.equal(balances!.runners, []);
});

test("a projection reads old events through their upcasters: a v1 event reaches evolve as v2", async () => {
  // version 1 of Deposited carried cents; version 2 (what balances.ts folds) an amount
  useUpcasters({ Deposited: { 1: (v1: { account: string; cents: number }) => ({ account: v1.account, amount: v1.cents / 100 }) } });
  const rt = await runtime(config([{ name: "balances", module: "./balances.ts" }]), "proj-upcast");
  const running = await startProjections(rt);
  try {
    const bus = new EventBus(env.nc);
    const old = await bus.publish("Deposited", { account: "legacy-1", cents: 250 }, { dataVersion: 1 });
    const now = await bus.publish("Deposited", { account: "legacy-1", amount: 1 });
    await reached(running, now.seq);
    const entry = await (await ProjectionReader.open<Balance>(env.nc, "balances")).get("legacy-1");
    assert.equal(entry!.value, { balance: 3.5, events: 2 }, "2.50 from the upcast v1 event, plus 1");
    assert.ok(old.seq < now.seq);
  } finally {
    clearUpcasters();
    await running.stop();
    await rt.dispose();
  }
});

test.run();
