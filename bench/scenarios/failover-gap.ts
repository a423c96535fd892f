import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { connectNats, retryTransient, waitForJetStream } from "../../runtime/nats/connect.ts";
import { isNoPeers } from "../../runtime/nats/errors.ts";
import { NatsCluster, type NatsServer } from "../../runtime/nats/server.ts";
import type { Scenario } from "../harness.ts";

type Publish = (id: string) => Promise<unknown>;
type Run = { longestGapMs: number; acked: number; stored: number };

async function waitForPlacement(add: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await add();
      return;
    } catch (err) {
      if (!isNoPeers(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function leaderNode(nodes: readonly NatsServer[], leader: string): Promise<NatsServer> {
  for (const n of nodes) {
    const nc = await connect({ servers: n.url, reconnect: false });
    const name = nc.info?.server_name;
    await nc.close();
    if (name === leader) return n;
  }
  throw new Error(`leader ${leader} not found`);
}

/**
 * On a fresh 3-node cluster: publish sequentially (each with its own Nats-Msg-Id) for 2 s, SIGKILL
 * the stream leader, keep publishing for `afterMs`; the longest gap between two acks is the
 * unavailability a producer saw.
 */
async function oneRun(makePublish: (js: ReturnType<typeof jetstream>) => Publish, afterMs: number): Promise<Run> {
  const cluster = await NatsCluster.start(3);
  try {
    const nc = await connectNats({ servers: cluster.urls, name: "failover-gap" });
    await waitForJetStream(nc, 60_000);
    const jsm = await jetstreamManager(nc);
    // a cluster just formed on a loaded machine may not have its three peers current yet: "no suitable peers" until it does
    await waitForPlacement(() =>
      retryTransient(() => jsm.streams.add({ name: "GAP", subjects: ["gap.>"], num_replicas: 3, duplicate_window: 120_000_000_000 })),
    );
    const publish = makePublish(jetstream(nc, { timeout: 2000 }));
    let last = performance.now(),
      longest = 0,
      acked = 0,
      i = 0,
      killAt = Infinity;
    const started = performance.now();
    while (performance.now() < killAt + afterMs) {
      await publish(`m-${i++}`);
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      acked++;
      if (killAt === Infinity && now - started > 2000) {
        const leader = (await jsm.streams.info("GAP")).cluster!.leader!;
        await (await leaderNode(cluster.nodes, leader)).kill();
        killAt = performance.now();
        last = killAt;
      }
    }
    const stored = (await retryTransient(() => jsm.streams.info("GAP"))).state.messages;
    await nc.close();
    return { longestGapMs: longest, acked, stored };
  } finally {
    await cluster.stop();
  }
}

const scenario: Scenario = {
  name: "failover-gap",
  description:
    "longest gap between acks while the stream leader is SIGKILLed: retryTransient publisher vs raw client retrying every error after 250 ms",
  async run(args) {
    const afterMs = Number(args[0] ?? 8000);
    const jetbus = await oneRun(
      (js) => (id) => retryTransient(() => js.publish("gap.x", "x", { msgID: id }), { timeoutMs: 60_000 }),
      afterMs,
    );
    const raw = await oneRun(
      (js) => async (id) => {
        for (;;) {
          try {
            return await js.publish("gap.x", "x", { msgID: id });
          } catch {
            await new Promise((r) => setTimeout(r, 250));
          }
        }
      },
      afterMs,
    );
    // every publish is sequential with its own id: stored must equal acked (no loss, no duplicate)
    process.stderr.write(`jetbus: ${jetbus.acked} acked, ${jetbus.stored} stored; raw: ${raw.acked} acked, ${raw.stored} stored\n`);
    if (jetbus.stored !== jetbus.acked || raw.stored !== raw.acked) process.stderr.write("WARNING: stored != acked\n");
    return [
      {
        metric: "longest ack gap across a leader kill",
        unit: "ms",
        jetbus: jetbus.longestGapMs,
        raw: raw.longestGapMs,
        higherIsBetter: false,
      },
    ];
  },
};
export default scenario;
