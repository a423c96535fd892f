// `config validate` and `up` agree: a stateful actor is ordered on its state key unless its config
// says otherwise (validate shows it, up runs it so); a config that contradicts the state key is a
// validate error with its JSON path; a direct actor started before the store exists is
// STORE_MISSING and leaves nothing behind.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import { tokenFor } from "../../runtime/events/subjects.ts";
import { orMissing } from "../../runtime/nats/missing.ts";
import { Buckets, StateKeys, Streams } from "../../runtime/topology.ts";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { runJetbus } from "../helpers/cli.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const COUNTER = fileURLToPath(new URL("../fixtures/actor-modules/counter.ts", import.meta.url));
const GREETER = fileURLToPath(new URL("../fixtures/actor-modules/define-actor.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "jetbus-config-up-"));
let env: Awaited<ReturnType<typeof startServer>> | undefined;
const processes: JetbusProcess[] = [];
test.after(async () => {
  await stopAll(processes);
  await env?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function configFile(name: string, doc: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

test("a stateful actor without `ordered`: validate shows it ordered on its state key, and `up` runs it so (partitions, exact counts)", async () => {
  env = await startServer();
  const file = configFile("counter.json", {
    actors: [{ name: "counter", module: COUNTER }],
    routes: { rules: [{ name: "count", match: { type: "Counted" }, to: ["counter"] }] },
  });
  const valid = await runJetbus(["config", "validate", file, "--json"]);
  assert.is(valid.code, 0, valid.stderr);
  const shown = JSON.parse(valid.stdout) as { config: { actors: Array<{ ordered?: unknown }> } };
  assert.equal(shown.config.actors[0]!.ordered, { key: "data.key", partitions: 8 });

  const up = spawnJetbus("up", ["up", "--config", file, "--servers", env.server.url, "--no-http"]);
  processes.push(up);
  await up.waitOutput(/jetbus is up/);
  const js = jetstream(env.nc);
  const counts = new Map<string, number>();
  for (let i = 0; i < 24; i++) {
    const key = `k${i % 4}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const wire = encodeEvent(createEvent({ type: "Counted", data: { key }, source: "test" }));
    await js.publish(wire.subject, wire.data, { headers: wire.headers });
  }
  const kv = await new Kvm(env.nc).open(Buckets.state("counter"));
  await waitFor(
    async () => {
      for (const [key, n] of counts) {
        const e = await kv.get(StateKeys.state(tokenFor(key)));
        if (!e || e.json<{ n: number }>().n !== n) return false;
      }
      return true;
    },
    "every key's count exact",
    60_000,
  );
  const jsm = await jetstreamManager(env.nc);
  const durables: string[] = [];
  for await (const ci of jsm.consumers.list(Streams.Inbox)) durables.push(ci.name);
  assert.equal(durables.sort(), Array.from({ length: 8 }, (_, k) => `counter-p${k}`).sort(), "one durable per partition");
  // the router published the copies through its ordered lane
  assert.ok(await orMissing(() => jsm.consumers.info(Streams.Events, "jetbus-router-ordered")), "the ordered lane exists");
  await stopAll([up]);
});

test("a stateful actor whose `ordered.key` is not its state key: validate names actors[0].ordered.key (exit 2)", async () => {
  const file = configFile("conflict.json", {
    actors: [{ name: "counter", module: COUNTER, ordered: { key: "correlationid" } }],
    routes: { rules: [{ match: { type: "Counted" }, to: ["counter"] }] },
  });
  const r = await runJetbus(["config", "validate", file]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /\[CONFIG_INVALID\]/);
  assert.match(r.stderr, /actors\[0\]\.ordered\.key: is "correlationid" but the actor keeps state by key "data\.key"/);
});

test("a stateful actor with delivery direct: validate names actors[0].delivery (exit 2)", async () => {
  const file = configFile("direct-state.json", {
    actors: [{ name: "counter", module: COUNTER, delivery: "direct" }],
    routes: { rules: [{ match: { type: "Counted" }, to: ["counter"] }] },
  });
  const r = await runJetbus(["config", "validate", file]);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stderr, /actors\[0\]\.delivery: a stateful actor is ordered on its state key "data\.key"/);
});

test("a direct actor started before the store exists: STORE_MISSING naming the actor, no JETBUS_INBOX or JETBUS_DLQ left behind", async () => {
  const fresh = await startServer();
  try {
    const file = configFile("direct.json", {
      actors: [{ name: "greeter", module: GREETER, delivery: "direct" }],
      routes: { rules: [{ match: { type: "Greeted" }, to: ["greeter"] }] },
    });
    const r = await runJetbus(["actor", "greeter", "--config", file, "--servers", fresh.server.url, "--no-http"]);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stderr, /error \[STORE_MISSING\]: actor "greeter" has delivery "direct" .*stream EVENTS does not exist/);
    assert.match(r.stderr, /hint: create the store with `jetbus store apply`/);
    const jsm = await jetstreamManager(fresh.nc);
    for (const s of [Streams.Inbox, Streams.DeadLetter]) assert.is(await orMissing(() => jsm.streams.info(s)), null, `${s} not created`);
  } finally {
    await fresh.stop();
  }
});

test.run();
