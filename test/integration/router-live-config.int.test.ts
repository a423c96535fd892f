import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectNats } from "../../runtime/nats/connect.ts";
import { ConfigError } from "../../runtime/errors.ts";
import { ConfigStore } from "../../runtime/routing/config-store.ts";
import { startRouter, type RouterHandle } from "../../runtime/routing/router.ts";
import { readKvEntries, parseJsonObject } from "../../runtime/operations/kv-read.ts";
import { Buckets, Consumers, Streams } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { event, header, json, publishEvents, readAll, revisionOf, routerDeps, testConfig } from "../fixtures/router-support.ts";

const actors = [{ name: "a" }, { name: "b" }, { name: "c" }];
const v1 = testConfig({ actors, routes: { rules: [{ name: "v1", match: { type: "Order*" }, to: ["a", "b"] }] } });
const v2doc = {
  store: { storage: "memory" },
  actors,
  routes: {
    rules: [{ name: "v2", match: { type: "Order*", data: { exists: ["id"] } }, to: ["b", "c"], transform: { set: { routedBy: "v2" } } }],
  },
};

test("a config apply is picked up by two running replicas between events: none lost, none half-applied", async () => {
  const { nc, server, stop } = await startServer();
  const nodeA = await connectNats({ servers: server.url, name: "router-a" });
  const nodeB = await connectNats({ servers: server.url, name: "router-b" });
  const routers: RouterHandle[] = [];
  try {
    const store = await ConfigStore.open(nc);
    const r1 = (await store.apply(v1)).revision;
    routers.push(await startRouter(routerDeps(nodeA, v1), { heartbeatMs: 200, maxInFlight: 32 }));
    routers.push(await startRouter(routerDeps(nodeB, v1), { heartbeatMs: 200, maxInFlight: 32 }));
    assert.equal(
      routers.map((r) => r.revision),
      [r1, r1],
    );

    // events keep flowing while the config changes
    const total = 400;
    let published = 0;
    const flow = (async () => {
      while (published < total) {
        const batch = Array.from({ length: 10 }, (_, i) => event("OrderPlaced", { id: published + i }));
        await publishEvents(nc, batch);
        published += batch.length;
      }
    })();
    await waitFor(() => published >= 100, "some events under revision 1", 30_000);

    // an invalid config is refused before it is stored: routers keep running revision 1
    const invalid = { ...v2doc, routes: { rules: [{ match: { type: "Order*", data: { regex: { id: "(" } } }, to: ["b"] }] } };
    await store.apply(invalid).then(
      () => assert.unreachable("invalid config stored"),
      (err) => assert.instance(err, ConfigError),
    );
    assert.is((await store.current())!.revision, r1);

    const r2 = (await store.apply(v2doc)).revision;
    await waitFor(() => routers.every((r) => r.revision === r2), "both replicas on revision 2", 30_000);
    const switchedAt = published;
    await flow;
    assert.ok(switchedAt < total, "events flowed after the switch");

    const jsm = await jetstreamManager(nc);
    await waitFor(
      async () => {
        const ci = await jsm.consumers.info(v1.store.stream, Consumers.router);
        return ci.num_pending === 0 && ci.num_ack_pending === 0;
      },
      "every event routed and acked",
      30_000,
    );

    const copies = await readAll(nc, Streams.Inbox);
    const byEvent = new Map<string, typeof copies>();
    for (const m of copies) byEvent.set(header(m, "ce-id"), [...(byEvent.get(header(m, "ce-id")) ?? []), m]);
    assert.is(byEvent.size, total, "no event lost");
    const seen = new Set<number>();
    for (const [id, ms] of byEvent) {
      const revs = new Set(ms.map(revisionOf));
      assert.is(revs.size, 1, `event ${id}: every copy from one revision`);
      const rev = [...revs][0]!;
      seen.add(rev);
      const actorsGot = ms.map((m) => m.subject.split(".")[1]).sort();
      if (rev === r1) {
        assert.equal(actorsGot, ["a", "b"], `event ${id} under revision ${r1}`);
        assert.not.ok("routedBy" in (json(ms[0]!) as object));
      } else {
        assert.is(rev, r2);
        assert.equal(actorsGot, ["b", "c"], `event ${id} under revision ${r2}`);
        for (const m of ms) assert.is((json(m) as { routedBy: string }).routedBy, "v2");
      }
    }
    assert.equal([...seen].sort(), [r1, r2]);

    // each replica reports the revision it runs in KV jetbus-presence (what `jetbus status` shows)
    await waitFor(
      async () => {
        const entries = (await readKvEntries(nc, jsm, Buckets.Presence, "router.>")) ?? [];
        const revs = entries.map((e) => parseJsonObject(e.value).configRevision);
        return entries.length === 2 && revs.every((r) => r === r2);
      },
      "presence shows both replicas on revision 2",
      30_000,
    );
  } finally {
    await Promise.all(routers.map((r) => r.stop()));
    await nodeA.close();
    await nodeB.close();
    await stop();
  }
});

test("a router starts from the stored revision, not its file", async () => {
  const { nc, stop } = await startServer();
  let router: RouterHandle | undefined;
  try {
    const store = await ConfigStore.open(nc);
    const stored = await store.apply(v2doc);
    router = await startRouter(routerDeps(nc, v1));
    assert.is(router.revision, stored.revision);
    await publishEvents(nc, [event("OrderPlaced", { id: 1 })]);
    await waitFor(async () => (await readAll(nc, Streams.Inbox)).length === 2, "two copies", 30_000);
    const subjects = (await readAll(nc, Streams.Inbox)).map((m) => m.subject).sort();
    assert.equal(subjects, ["actors.b.0", "actors.c.0"]);
  } finally {
    await router?.stop();
    await stop();
  }
});

test.run();
