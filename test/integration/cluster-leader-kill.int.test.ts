import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { retryTransient } from "../../runtime/nats/connect.ts";
import { isTransient } from "../../runtime/nats/errors.ts";
import type { NatsServer } from "../../runtime/nats/server.ts";
import { startCluster } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { nodeNamed } from "../helpers/cluster-nodes.ts";

test("publishes retried with the same Nats-Msg-Id through a stream-leader SIGKILL: every acked message stored exactly once", async () => {
  const { cluster, nc, stop } = await startCluster(3);
  try {
    const jsm = await jetstreamManager(nc);
    await retryTransient(() =>
      jsm.streams.add({ name: "FAILOVER", subjects: ["failover.>"], num_replicas: 3, duplicate_window: 120_000_000_000 }),
    );
    const js = jetstream(nc, { timeout: 2000 });
    const acked: string[] = [];
    const retried = new Map<string, number>();
    const unclassified: string[] = [];
    let killed: NatsServer | undefined;
    let ackedAtKill = 0;
    // sequential publishes with a fixed id per message: a retry after a lost ack must be deduplicated
    for (let i = 0; acked.length < ackedAtKill + 150 || !killed; i++) {
      const id = `msg-${i}`;
      await retryTransient(
        async () => {
          try {
            return await js.publish("failover.x", JSON.stringify({ i }), { msgID: id });
          } catch (err) {
            const key = `${(err as Error).name}: ${(err as Error).message}`.slice(0, 90);
            retried.set(key, (retried.get(key) ?? 0) + 1);
            if (!isTransient(err)) unclassified.push(key);
            throw err;
          }
        },
        { timeoutMs: 60_000 },
      );
      acked.push(id);
      if (!killed && acked.length === 100) {
        const leader = (await jsm.streams.info("FAILOVER")).cluster?.leader;
        assert.ok(leader, "stream has a leader");
        killed = await nodeNamed(cluster.nodes, leader!);
        await killed.kill();
        ackedAtKill = acked.length;
      }
    }
    console.log(`  errors retried during the leader kill: ${JSON.stringify(Object.fromEntries(retried))}`);
    assert.equal(unclassified, [], "every error seen during the leader kill is classified transient");

    await killed!.restart();
    const info = await waitFor(
      async () => {
        const i = await jsm.streams.info("FAILOVER");
        return i.cluster?.replicas?.length === 2 && i.cluster.replicas.every((r) => r.current && !r.offline) ? i : undefined;
      },
      "restarted node current again",
      60_000,
    );
    assert.is(info.state.messages, acked.length, "no duplicate stored, nothing lost");

    // read every stored message back by sequence: ids must be exactly the acked ones, once each
    const seen = new Map<string, number>();
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await retryTransient(() => jsm.streams.getMessage("FAILOVER", { seq }));
      const id = m?.header.get("Nats-Msg-Id") ?? "";
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    const missing = acked.filter((id) => !seen.has(id));
    assert.equal(missing, [], `acked but not read back (read ${[...seen.values()].reduce((a, b) => a + b, 0)})`);
    assert.is(seen.size, acked.length);
    for (const id of acked) assert.is(seen.get(id), 1, `${id} stored once`);
  } finally {
    await stop();
  }
});

test.run();
