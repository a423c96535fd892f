import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { feed } from "../fixtures/actor-harness.ts";
import { killAll, spawnActor, waitReady, type ActorProcess } from "../fixtures/actor-process.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent } from "../../runtime/events/codec.ts";
import { StateStore } from "../../runtime/actor/state/store.ts";
import { Consumers, Streams } from "../../runtime/topology.ts";

const runtimeMod = fileURLToPath(new URL("../../runtime/mod.ts", import.meta.url));
const KEYS = 4;
const PER_KEY = 200;

// A counter: state = events seen per key. The handler sleeps a little so that the kills land
// while events are in flight on both replicas.
const counterModule = `import { defineActor } from ${JSON.stringify(runtimeMod)};
export default defineActor({
  state: { key: "data.key", initial: { n: 0 } },
  async handle(event, ctx) {
    const n = ctx.state.get().n;
    await new Promise((r) => setTimeout(r, 5));
    ctx.state.set({ n: n + 1 });
  },
});
`;

let env: Awaited<ReturnType<typeof startServer>>;
const procs: ActorProcess[] = [];
test.after(async () => {
  await killAll(procs);
  await env?.stop();
});

test("a counter fed 4 keys x 200 events on two replica processes, one SIGKILLed twice, counts every key exactly", async () => {
  env = await startServer();
  const dir = mkdtempSync(join(tmpdir(), "jetbus-state-counter-"));
  writeFileSync(join(dir, "counter.ts"), counterModule);
  const raw = {
    actors: [
      {
        name: "counter",
        module: "./counter.ts",
        ordered: { key: "data.key", partitions: 4 },
        ack_wait: "2s",
        retry: { max_attempts: 100, backoff: ["100ms"] },
      },
    ],
    observability: { log_level: "warn" },
  };
  const configFile = join(dir, "jetbus.config.json");
  writeFileSync(configFile, JSON.stringify(raw));
  const settings = configFrom(raw, configFile).actors[0]!;
  const start = async () => {
    const p = spawnActor(configFile, env.server.url, "counter", ["--no-http"]);
    procs.push(p);
    await waitReady(env.nc, p, "counter");
    return p;
  };
  let a = await start();
  const b = await start();
  const events = Array.from({ length: KEYS * PER_KEY }, (_, i) =>
    createEvent({ type: "Counted", data: { key: `k${i % KEYS}` }, source: "test" }),
  );
  for (const e of events) await feed(env.nc, settings, e);
  const store = await StateStore.bind(env.nc, "counter");
  const total = async () => {
    let sum = 0;
    for (let k = 0; k < KEYS; k++) sum += ((await store.read(`k${k}`)).value as { n: number } | undefined)?.n ?? 0;
    return sum;
  };
  // first kill a quarter of the way, the second (of the restarted process) at two thirds
  await waitFor(async () => (await total()) >= 200, "a quarter of the events counted", 60_000, 50);
  a.child.kill("SIGKILL");
  await a.exited;
  a = await start();
  await waitFor(async () => (await total()) >= 530, "two thirds of the events counted", 60_000, 50);
  a.child.kill("SIGKILL");
  await a.exited;
  await start();
  // settled: every partition durable has nothing pending and nothing unacked
  const jsm = await jetstreamManager(env.nc);
  await waitFor(
    async () => {
      for (let p = 0; p < 4; p++) {
        const c = await jsm.consumers.info(Streams.Inbox, Consumers.actorPartition("counter", p));
        if (c.num_pending > 0 || c.num_ack_pending > 0) return false;
      }
      return true;
    },
    "every event handled and acked",
    120_000,
    200,
  );
  for (let k = 0; k < KEYS; k++) assert.equal((await store.read(`k${k}`)).value, { n: PER_KEY }, `key k${k}`);
  assert.ok(b.child.exitCode === null, "the other replica kept running");
});

test.run();
