import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { startRuntime, type Runtime } from "../../runtime/app/bootstrap.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { createLogger } from "../../runtime/log.ts";
import { EventBus, ensureEventStream, StoreAccess } from "../../runtime/store/mod.ts";
import { startProjections, loadProjections, type RunningProjections } from "../../runtime/projection/start.ts";
import { rebuildProjection } from "../../runtime/projection/rebuild.ts";
import { ReadModel, type ModelEntry } from "../../runtime/projection/model.ts";
import { ProjectionRegistry } from "../../runtime/projection/registry.ts";
import { openPresenceBucket } from "../../runtime/presence/mod.ts";
import { EventSchemas } from "../../runtime/store/schemas.ts";
import { expectedBalances, type Moved } from "../fixtures/projection-modules/balances.ts";

// The "done when" for projections: a rebuild from 100k stored events equals the live model,
// and a rebuild under live traffic switches readers over with nothing missed or double-counted
// (each key's state counts the events that made it, so a double or a miss changes it).

const FIXTURES = fileURLToPath(new URL("../fixtures/projection-modules/", import.meta.url));
const N = Number(process.env.PROJECTION_REBUILD_N ?? 100_000);
const ACCOUNTS = 100;
const config = configFrom({ projections: [{ name: "balances", module: "./balances.ts" }], observability: { log_level: "warn" } }, "(test)");

let env: Awaited<ReturnType<typeof startServer>>;
let rt: Runtime;
let live: RunningProjections;
const published: Array<{ type: string; data: Moved }> = [];
let lastSeq = 0;

function move(i: number): { type: string; data: Moved } {
  return { type: i % 4 === 0 ? "Withdrawn" : "Deposited", data: { account: `acct-${i % ACCOUNTS}`, amount: (i % 9) + 1 } };
}

/** Publishes through the bulk publisher (EventBus.publishMany: pipelined, one ack each), in chunks. */
async function publish(bus: EventBus, from: number, n: number): Promise<void> {
  const chunk = 10_000;
  for (let at = from; at < from + n; at += chunk) {
    const inputs = Array.from({ length: Math.min(chunk, from + n - at) }, (_, k) => move(at + k));
    const results = await bus.publishMany(inputs);
    for (const [k, r] of results.entries()) {
      if (r.status !== "fulfilled") throw r.reason;
      published.push(inputs[k]!);
      lastSeq = Math.max(lastSeq, r.value.seq);
    }
  }
}

async function entries(version: number): Promise<ModelEntry[]> {
  return (await ReadModel.bind(env.nc, "balances", version)).list();
}

function plain(list: readonly ModelEntry[]): Array<[string, unknown, number]> {
  return list.map((e) => [e.key, e.value, e.seq]);
}

async function reached(seq: number): Promise<void> {
  await waitFor(() => live.projections[0]!.current, "a live runner");
  await live.projections[0]!.current!.reached(seq);
}

test.before(async () => {
  env = await startServer();
  await ensureEventStream(await jetstreamManager(env.nc), config.store, StoreAccess.Create);
  rt = await startRuntime({
    servers: env.server.url,
    config,
    name: "rebuild-live",
    projectDir: FIXTURES,
    logger: createLogger({ level: process.env.JETBUS_TEST_LOG ?? "silent", pretty: false }),
  });
  live = await startProjections(rt);
});
test.after(async () => {
  await live?.stop();
  await rt?.dispose();
  await env?.stop();
});

async function rebuild() {
  const [loaded] = await loadProjections(rt, ["balances"]);
  return rebuildProjection({
    nc: env.nc,
    stream: config.store.stream,
    replicas: 1,
    loaded: loaded!,
    schemas: new EventSchemas(),
    logger: rt.logger,
    presence: () => openPresenceBucket(env.nc, 1),
  });
}

test(`a projection rebuilt from ${N} stored events equals the live one`, async () => {
  const bus = new EventBus(env.nc);
  let t = performance.now();
  await publish(bus, 0, N);
  await bus.close();
  const publishS = (performance.now() - t) / 1000;
  t = performance.now();
  await reached(lastSeq);
  const liveS = (performance.now() - t) / 1000;
  const before = plain(await entries(1));
  assert.is(before.length, ACCOUNTS);
  assert.equal(new Map(before.map(([k, v]) => [k, v])), expectedBalances(published), "the live model is the fold of the stored events");
  const result = await rebuild();
  process.stderr.write(
    `  published ${N} in ${publishS.toFixed(1)} s; live model caught up ${liveS.toFixed(1)} s after; rebuild ${result.seconds.toFixed(1)} s (${result.events} events applied)\n`,
  );
  assert.is(result.version, 2);
  assert.is(result.previous, 1);
  assert.is(result.events, N, "the rebuild applied every stored event once");
  assert.equal(plain(await entries(2)), before, "same keys, same states, same store sequences");
  assert.equal(plain(await entries(1)), before, "the live version is untouched by the rebuild");
  assert.is((await (await ProjectionRegistry.open(env.nc, { replicas: 1 })).require("balances")).version, 2, "readers use version 2");
  await waitFor(() => live.projections[0]!.current?.version === 2, "the live runner moved to version 2");
});

test("a rebuild under live traffic switches with nothing missed or double-counted", async () => {
  const bus = new EventBus(env.nc);
  let stop = false;
  let i = N;
  // about 2,000 events a second while the rebuild runs, and on after the switch
  const traffic = (async () => {
    while (!stop) {
      await publish(bus, i, 100);
      i += 100;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const result = await rebuild();
  assert.is(result.version, 3);
  assert.is(result.handedOver, true, "the live runner took the new version over");
  assert.equal(result.removed, [1], "the version before the previous one is removed");
  const trafficAtSwitch = i;
  await waitFor(() => i >= trafficAtSwitch + 1000, "traffic after the switch");
  stop = true;
  await traffic;
  await bus.close();
  assert.ok(i - N >= 1000, `events were published during the rebuild (${i - N})`);
  await waitFor(() => live.projections[0]!.current?.version === 3, "the live runner on version 3");
  await reached(lastSeq);
  const model = new Map(plain(await entries(3)).map(([k, v]) => [k, v]));
  assert.equal(model, expectedBalances(published), `version 3 is the fold of all ${published.length} events`);
  const stored = (await (await jetstreamManager(env.nc)).streams.info(config.store.stream)).state.messages;
  assert.is(stored, published.length, "the store holds what was published");
});

test.run();
