import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { createEvent } from "../../runtime/events/codec.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import { encodeEvent } from "../../runtime/events/codec.ts";
import { Consumers, JetbusHeaders, Streams } from "../../runtime/topology.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

const ACTORS = ["user-handler-1", "user-handler-2", "email-handler"];
const N = 1000;

function startRouterProcess(url: string, configFile: string): ChildProcess {
  return spawn(
    process.execPath,
    ["bin/jetbus.js", "router", "--servers", url, "--config", configFile, "--ack-wait", "2s", "--max-in-flight", "16"],
    {
      cwd: process.cwd(),
      env: { ...process.env, JETBUS_LOG_LEVEL: "warn" },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
}

const exited = (c: ChildProcess) =>
  new Promise<number | null>((r) => (c.exitCode !== null || c.signalCode !== null ? r(c.exitCode) : c.once("exit", (code) => r(code))));

test("a router SIGKILLed mid-fan-out: the next router completes it with every copy exactly once", async () => {
  const { nc, server, stop } = await startServer();
  const dir = mkdtempSync(join(tmpdir(), "jetbus-route-crash-"));
  const configFile = join(dir, "jetbus.config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      actors: ACTORS.map((name) => ({ name })),
      routes: { rules: [{ name: "fan-out", match: { type: "OrderPlaced" }, to: ACTORS }] },
    }),
  );
  const children: ChildProcess[] = [];
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: Streams.Events, subjects: ["events.>"] });
    const pub = new BulkPublisher(nc);
    const events = Array.from({ length: N }, (_, i) => createEvent({ type: "OrderPlaced", data: { n: i }, source: "test" }));
    await Promise.all(events.map((e) => pub.publish(encodeEvent(e))));
    await pub.close();

    const inboxCount = async () => (await jsm.streams.info(Streams.Inbox).catch(() => null))?.state.messages ?? 0;
    // A kill proves something only if it lands while some fan-out is unacked: copies exist beyond the ack floor.
    // The moment is racy (the router may have acked everything it copied just before the signal), so a kill that
    // missed is followed by another router and another kill, a bounded number of times.
    let midFanOut = false;
    for (let attempt = 1; attempt <= 5 && !midFanOut; attempt++) {
      const router = startRouterProcess(server.url, configFile);
      children.push(router);
      const before = await inboxCount();
      await waitFor(
        async () => {
          const n = await inboxCount();
          return n >= before + 150 && n % 3 !== 0;
        },
        "router in the middle of a fan-out",
        60_000,
        2,
      );
      router.kill("SIGKILL");
      await exited(router);

      const atKill = await inboxCount();
      const ackFloor = (await jsm.consumers.info(Streams.Events, Consumers.router)).ack_floor.stream_seq;
      assert.ok(atKill < 3 * N, `killed before the end (${atKill} copies)`);
      const lastCopy = await jsm.streams.getMessage(Streams.Inbox, { last_by_subj: "actors.email-handler.0" }).catch(() => null);
      midFanOut =
        atKill % 3 !== 0 || atKill > 3 * ackFloor || (lastCopy !== null && Number(lastCopy.header.get(JetbusHeaders.OriginSeq)) > ackFloor);
    }
    assert.ok(midFanOut, "one of five kills left copies beyond the ack floor");

    const second = startRouterProcess(server.url, configFile);
    children.push(second);
    await waitFor(
      async () => {
        const ci = await jsm.consumers.info(Streams.Events, Consumers.router);
        return ci.ack_floor.stream_seq === N && ci.num_pending === 0 && ci.num_ack_pending === 0;
      },
      "second router acked every event (redeliveries included)",
      90_000,
      100,
    );

    assert.is(await inboxCount(), 3 * N, "no duplicate, no loss");
    const seen = new Map<string, number>();
    for (let seq = 1; seq <= (await jsm.streams.info(Streams.Inbox)).state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(Streams.Inbox, { seq }).catch(() => null);
      if (!m) continue;
      const id = m.header.get("Nats-Msg-Id");
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    for (const e of events) for (const a of ACTORS) assert.is(seen.get(`${e.id}:${a}`), 1, `${e.id}:${a} exactly once`);

    second.kill("SIGTERM");
    assert.is(await exited(second), 0, "drains and exits 0 on SIGTERM");
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await stop();
  }
});

test.run();
