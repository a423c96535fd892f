import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AckPolicy, jetstreamManager } from "@nats-io/jetstream";
import { startCluster } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { createLogger } from "../../runtime/log.ts";
import { serveConsole, type ConsoleServer } from "../../runtime/console/serve.ts";

let env: Awaited<ReturnType<typeof startCluster>>;
let server: ConsoleServer;

test.before(async () => {
  env = await startCluster(3);
  server = await serveConsole(
    { nc: env.nc, config: configFrom({}, "(test)"), logger: createLogger({ level: "silent", pretty: false }) },
    { port: 0 },
  );
});
test.after(async () => {
  await server?.close();
  await env?.stop();
});

type Placement = { leader: string | null; replicas: number; peers: { name: string; current: boolean; offline: boolean }[] };
type ClusterAnswer = {
  connectedTo: string;
  systemAccount: boolean;
  servers: { name: string; source: string }[];
  streams: (Placement & { name: string })[];
  consumers: (Placement & { stream: string; name: string })[];
};

test("cluster view: every server, each stream's leader and replica health, each durable's leader, without $SYS", async () => {
  const jsm = await jetstreamManager(env.nc);
  await jsm.streams.add({ name: "CONSOLE_R3", subjects: ["console.r3.>"], num_replicas: 3 });
  await jsm.consumers.add("CONSOLE_R3", { durable_name: "watcher", ack_policy: AckPolicy.Explicit });
  const answer = await waitFor(
    async () => {
      const c = (await (await fetch(new URL("/api/cluster", server.url))).json()) as ClusterAnswer;
      const s = c.streams.find((x) => x.name === "CONSOLE_R3");
      // replicas report current once they caught up with the new stream's leader
      return s?.leader && s.peers.length === 2 && s.peers.every((p) => p.current) ? c : null;
    },
    "an R3 stream with a leader and two current replicas",
    30_000,
  );
  assert.is(answer.systemAccount, false);
  // the test cluster names its nodes <name>-n1..n3
  assert.equal(answer.servers.map((s) => s.name.slice(-3)).sort(), ["-n1", "-n2", "-n3"]);
  assert.ok(answer.servers.some((s) => s.name === answer.connectedTo && s.source === "connection"));
  const stream = answer.streams.find((x) => x.name === "CONSOLE_R3")!;
  assert.is(stream.replicas, 3);
  assert.not.ok(
    stream.peers.some((p) => p.name === stream.leader),
    "peers are the followers",
  );
  const consumer = answer.consumers.find((x) => x.stream === "CONSOLE_R3" && x.name === "watcher");
  assert.ok(consumer?.leader, "the durable has a leader");
});

test.run();
