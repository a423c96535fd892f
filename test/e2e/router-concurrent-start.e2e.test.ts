// Three routers started at the same moment on a fresh 3-node cluster all create the store and come
// up. With nats-server 2.9.10 this start panicked the server (a nil pointer in its message-get
// API handler while the same streams and buckets were being created by three clients at once).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { EventBus } from "../../runtime/store/mod.ts";
import { Streams } from "../../runtime/topology.ts";
import { spawnJetbus, stopAll, type JetbusProcess } from "../fixtures/jetbus-process.ts";
import { startCluster } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

test("three routers started at once on a fresh cluster all come up, the servers stay up, and events are routed", async () => {
  const { cluster, nc, stop } = await startCluster(3);
  const dir = mkdtempSync(join(tmpdir(), "jetbus-routers-"));
  const routers: JetbusProcess[] = [];
  try {
    const config = join(dir, "config.json");
    writeFileSync(
      config,
      JSON.stringify({
        store: { replicas: 3 },
        actors: [
          { name: "audit", handler: "email-handler" },
          { name: "ledger", handler: "email-handler", ordered: { key: "correlationid", partitions: 2 } },
        ],
        routes: { rules: [{ name: "users", match: { type: "User*" }, to: ["audit", "ledger"] }] },
      }),
    );
    const args = ["router", "--config", config, "--servers", cluster.urls.join(",")];
    // the same tick: the three processes race through stream, bucket and consumer creation
    for (let i = 1; i <= 3; i++) routers.push(spawnJetbus(`router-${i}`, args));
    await Promise.all(routers.map((r) => r.waitOutput(/router running/, 120_000)));

    assert.ok(
      cluster.nodes.every((n) => n.running),
      "every nats-server is still running",
    );
    const jsm = await jetstreamManager(nc);
    for (const name of [Streams.Events, Streams.Index, Streams.Inbox, Streams.DeadLetter, Streams.Unrouted, Streams.Quarantine]) {
      assert.is((await jsm.streams.info(name)).config.num_replicas, 3, `${name} created once, at 3 replicas`);
    }
    const bus = new EventBus(nc);
    await bus.publish("UserCreated", { user_id: "u1" });
    await bus.close();
    // one copy per actor, whichever router took the event
    await waitFor(async () => (await jsm.streams.info(Streams.Inbox)).state.messages === 2, "a copy in each actor's inbox", 30_000, 100);
    assert.ok(
      routers.every((r) => r.running()),
      "all three routers still run",
    );
  } finally {
    await stopAll(routers);
    await stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
