// A team with only the nats CLI: `nats pub events.UserCreated '{...}'` is a core NATS publish of
// raw JSON bytes (no JetStream API, no ack), optionally with -H headers. This test publishes
// exactly that way from a plain connection and checks that the running jetbus (indexer, router
// and the configured actors of jetbus.config.json) stores, routes, handles and finds each event.
//
// Ids: with `-H Nats-Msg-Id:X` the event id is X (and a repeat inside the duplicate window is
// stored once). Without it the runtime assigns `<stream>-<store sequence>`, e.g. `EVENTS-1`:
// stable, because the stored message never moves, and the same in the store, the indexes, the
// routed copies and the processed markers. The correlation id is `ce-correlationid`, else the id.
import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { startRuntime, type Runtime } from "../../runtime/app/bootstrap.ts";
import { startServices, type Services } from "../../runtime/app/services.ts";
import { registerBuiltinHandlers } from "../../runtime/app/builtin-handlers.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import { createLogger } from "../../runtime/log.ts";
import { markerKeyOf } from "../../runtime/actor/mod.ts";
import { compileRuleSet } from "../../runtime/routing/plan.ts";
import { EventStore } from "../../runtime/store/mod.ts";
import type { Event } from "../../runtime/events/types.ts";
import type { StoredEvent } from "../../runtime/store/types.ts";
import { Buckets } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { docBlock, shellCommands } from "../helpers/doc-blocks.ts";

let env: Awaited<ReturnType<typeof startServer>>;
let rt: Runtime;
let services: Services;
/** The "nats CLI": a bare client connection, nothing from jetbus. */
let cli: NatsConnection;
let store: EventStore;

test.before(async () => {
  env = await startServer();
  const config = loadConfig("jetbus.config.json");
  rt = await startRuntime({
    config,
    servers: env.server.url,
    name: "test-nats-cli",
    logger: createLogger({ level: process.env.JETBUS_TEST_LOG ?? "silent", pretty: false }),
  });
  // the seed's handlers (actors/) that the config names; startServices registers none
  await registerBuiltinHandlers();
  services = await startServices(rt, { http: false });
  cli = await connect({ servers: env.server.url, name: "nats-cli" });
  store = new EventStore(rt.nc, { stream: config.store.stream });
});
test.after(async () => {
  await cli?.close().catch(() => undefined);
  await services?.stop(0).catch(() => undefined);
  await rt?.dispose();
  await env?.stop();
});

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

/** What `nats pub SUBJECT BODY [-H K:V ...]` sends: a core publish, flushed. */
async function natsPub(subject: string, body: unknown, hdrs: Record<string, string> = {}): Promise<void> {
  const h = headers();
  for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
  cli.publish(subject, json(body), Object.keys(hdrs).length ? { headers: h } : undefined);
  await cli.flush();
}

const found = (id: string) => waitFor(() => store.findById(id), `event ${id} to be found by id`);

/** Waits for the processed marker of every actor the live rules route `event` to (written after the handler succeeded). */
async function handledByRoutedActors(event: Event): Promise<string[]> {
  const actors = compileRuleSet(rt.config, 0)
    .plan(event)
    .map((c) => c.actor);
  assert.ok(actors.length > 0, `the config routes ${event.type} somewhere`);
  const kvm = new Kvm(rt.nc);
  for (const actor of actors) {
    await waitFor(
      async () => {
        const entry = await (await kvm.open(Buckets.processed(actor))).get(markerKeyOf(event));
        return entry?.operation === "PUT";
      },
      `${actor} to handle ${event.type} ${event.id}`,
      30_000,
    );
  }
  return actors;
}

test("raw JSON without headers: stored, routed, handled, found by its assigned id <stream>-<seq> and by correlation", async () => {
  const jsm = await jetstreamManager(rt.nc);
  const before = (await jsm.streams.info(rt.config.store.stream)).state.last_seq;
  const body = { user_id: "cli-user-1", email: "cli-user-1@example.com" };
  await natsPub("events.UserCreated", body);

  const seq = await waitFor(async () => {
    const s = (await jsm.streams.info(rt.config.store.stream)).state.last_seq;
    return s > before ? s : 0;
  }, "the core publish to be stored by the stream");
  const id = `${rt.config.store.stream}-${seq}`;
  const e: StoredEvent = await found(id);
  assert.is(e.seq, seq);
  assert.is(e.event.type, "UserCreated");
  assert.equal(e.event.data, body);
  assert.is(e.event.source, "nats");
  assert.is(e.event.correlationid, id, "a flow without a correlation header starts at its own id");
  assert.equal((await store.getById(id)).event, e.event);

  const actors = await handledByRoutedActors(e.event);
  assert.equal(actors.sort(), ["email-handler", "user-handler-1", "user-handler-2"]);
  const flow = await store.getByCorrelationId(id);
  assert.equal(
    flow.map((x) => x.event.id),
    [id],
  );
});

test("raw JSON with -H Nats-Msg-Id, ce-correlationid and ce-source: that id, that flow, that source; a repeat is stored once", async () => {
  const flowId = "cli-flow-1";
  const created = { "Nats-Msg-Id": "cli-created-1", "ce-correlationid": flowId, "ce-source": "ops-shell" };
  await natsPub("events.UserCreated", { user_id: "cli-user-2", email: "cli-user-2@example.com" }, created);
  // the operator hits enter twice: same Nats-Msg-Id inside the duplicate window
  await natsPub("events.UserCreated", { user_id: "cli-user-2", email: "cli-user-2@example.com" }, created);
  await natsPub(
    "events.UserUpdated",
    { user_id: "cli-user-2", email: "new@example.com" },
    { "Nats-Msg-Id": "cli-updated-1", "ce-correlationid": flowId, "ce-source": "ops-shell" },
  );

  const c = await found("cli-created-1");
  const u = await found("cli-updated-1");
  for (const e of [c, u]) {
    assert.is(e.event.correlationid, flowId);
    assert.is(e.event.source, "ops-shell");
  }
  assert.equal(c.event.data, { user_id: "cli-user-2", email: "cli-user-2@example.com" });
  assert.is(u.event.type, "UserUpdated");

  assert.equal((await handledByRoutedActors(c.event)).sort(), ["email-handler", "user-handler-1", "user-handler-2"]);
  assert.equal((await handledByRoutedActors(u.event)).sort(), ["email-handler", "user-handler-1"]);

  const flow = await store.getByCorrelationId(flowId);
  assert.equal(
    flow.map((x) => x.event.id),
    ["cli-created-1", "cli-updated-1"],
  );
  const createdEvents = await store.getByType("UserCreated");
  assert.is(createdEvents.filter((x) => x.event.id === "cli-created-1").length, 1, "the repeat was deduplicated by the stream");
  assert.is(createdEvents.length, 2, "the header-less one and this one");

  // nothing went astray: every raw event decoded and matched a rule
  const unrouted = await rt.metrics.unrouted.get();
  const quarantined = await rt.metrics.quarantined.get();
  assert.is(unrouted.values[0]?.value ?? 0, 0);
  assert.is(quarantined.values[0]?.value ?? 0, 0);
});

/** `-H K:V` flags of a nats CLI command line, and the words left. */
function headerFlags(words: readonly string[]): { rest: string[]; hdrs: Record<string, string> } {
  const rest: string[] = [];
  const hdrs: Record<string, string> = {};
  for (let i = 0; i < words.length; i++) {
    if (words[i] !== "-H") {
      rest.push(words[i]!);
      continue;
    }
    const kv = words[++i]!;
    hdrs[kv.slice(0, kv.indexOf(":"))] = kv.slice(kv.indexOf(":") + 1);
  }
  return { rest, hdrs };
}

test("the README's nats CLI block, each command done as the nats CLI does it: events stored, routed and handled; what the views name exists", async () => {
  // no nats CLI on the test machines: each command is sent as that CLI sends it (a core publish or
  // request with the body's bytes and -H headers), and each view is checked to find what it names
  const jsm = await jetstreamManager(rt.nc);
  const kvm = new Kvm(rt.nc);
  const enc = new TextEncoder();
  const stored: string[] = [];
  const commands = shellCommands(docBlock("nats-cli"));
  for (const words of commands) {
    assert.is(words[0], "nats", words.join(" "));
    const { rest, hdrs } = headerFlags(words.slice(1));
    const h = headers();
    for (const [k, v] of Object.entries(hdrs)) h.set(k, v);
    const opts = Object.keys(hdrs).length ? { headers: h } : undefined;
    const [verb, a, b] = rest;
    const what = words.join(" ");
    if (verb === "pub") {
      const before = (await jsm.streams.info(rt.config.store.stream)).state.last_seq;
      cli.publish(a!, enc.encode(b!), opts);
      await cli.flush();
      const seq = await waitFor(async () => {
        const s = (await jsm.streams.info(rt.config.store.stream)).state.last_seq;
        return s > before ? s : 0;
      }, `${what}: stored`);
      stored.push(hdrs["Nats-Msg-Id"] ?? (JSON.parse(b!) as { id?: string }).id ?? `${rt.config.store.stream}-${seq}`);
    } else if (verb === "req") {
      const ack = (await cli.request(a!, enc.encode(b!), { ...opts, timeout: 10_000 })).json<{ stream: string; seq: number }>();
      assert.is(ack.stream, rt.config.store.stream, `${what}: the reply is the store's JetStream ack`);
      stored.push(hdrs["Nats-Msg-Id"] ?? `${rt.config.store.stream}-${ack.seq}`);
    } else if (verb === "stream" && a === "view") {
      assert.ok(await jsm.streams.info(b!), `${what}: stream ${b} exists`);
    } else if (verb === "consumer" && a === "report") {
      const names = (await jsm.consumers.list(b!).next()).map((c) => c.name);
      assert.ok(names.length > 0, `${what}: stream ${b} has consumers`);
    } else if (verb === "kv" && a === "get") {
      const entry = await (await kvm.open(b!)).get(rest[3]!);
      assert.is(entry?.operation, "PUT", `${what}: the key holds a value`);
    } else if (verb === "kv" && a === "ls") {
      const keys: string[] = [];
      for await (const k of await (await kvm.open(b!)).keys()) keys.push(k);
      assert.ok(keys.length > 0, `${what}: the bucket has keys`);
    } else {
      assert.unreachable(`${what}: not emulated here; add it to this test`);
    }
  }
  assert.is(stored.length, 4, "the block publishes four events");
  for (const id of stored) {
    const e = await found(id);
    assert.ok((await handledByRoutedActors(e.event)).length > 0, `${id} handled`);
  }
  const byId = async (id: string) => (await store.getById(id)).event;
  assert.is((await byId("evt-42")).correlationid, "signup-9");
  assert.is((await byId("evt-42")).source, "shell");
  assert.is((await byId("evt-44")).type, "UserDeleted");
  assert.equal((await byId("evt-44")).data, { user_id: "u1" });
});

test.run();
