import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { JetStreamManager } from "@nats-io/jetstream";
import type { Gauge } from "prom-client";
import type { ConnectionState } from "../nats/connection-state.ts";
import { orMissing } from "../nats/missing.ts";
import { PACKAGE_ROOT } from "../package-root.ts";
import { Streams } from "../topology.ts";
import { loadPromClient, type Metrics } from "./metrics.ts";

/** On every scrape the set-aside counts come from NATS; a scrape during an outage keeps the last values after this. */
const SAMPLE_TIMEOUT_MS = 2000;

function versionOf(packageJson: string): string {
  try {
    return String((JSON.parse(readFileSync(packageJson, "utf8")) as { version?: unknown }).version ?? "unknown");
  } catch {
    return "unknown";
  }
}

/** The @nats-io client's version, read from its package.json (its exports hide it). */
function natsClientVersion(): string {
  try {
    const entry = createRequire(import.meta.url).resolve("@nats-io/nats-core");
    return versionOf(join(dirname(entry), "..", "package.json"));
  } catch {
    return "unknown";
  }
}

/**
 * Metrics of the process rather than of handling: whether it is connected to NATS right now,
 * what it is (version, Node, NATS client), and how many events the router set aside
 * (JETBUS_QUARANTINE, JETBUS_UNROUTED; read on scrape, so every process shows the deployment's
 * counts, not only those its own router produced).
 */
export function registerProcessMetrics(
  metrics: Metrics,
  o: { connection: ConnectionState; jsm: () => Promise<JetStreamManager> },
): () => void {
  const { Gauge } = loadPromClient();
  const registers = [metrics.registry];
  const connected = new Gauge({
    name: "jetbus_nats_connected",
    help: "1 while the connection to NATS is up, 0 while it is lost or reconnecting",
    registers,
  });
  connected.set(o.connection.connected ? 1 : 0);
  const off = o.connection.onChange((c) => connected.set(c ? 1 : 0));
  new Gauge({
    name: "jetbus_build_info",
    help: "Always 1; the labels say which jetbus, Node and NATS client this process runs",
    labelNames: ["version", "node", "nats_client"],
    registers,
  }).set({ version: versionOf(join(PACKAGE_ROOT, "package.json")), node: process.versions.node, nats_client: natsClientVersion() }, 1);
  const sample = (gauge: Gauge, stream: string) => async () => {
    let timer: NodeJS.Timeout | undefined;
    const read = (async () => {
      const info = await orMissing(async () => (await o.jsm()).streams.info(stream));
      gauge.set(info?.state.messages ?? 0);
    })().catch(() => undefined);
    await Promise.race([read, new Promise((r) => (timer = setTimeout(r, SAMPLE_TIMEOUT_MS)))]).finally(() => clearTimeout(timer));
  };
  const quarantined: Gauge = new Gauge({
    name: "jetbus_quarantined_messages",
    help: `Messages in ${Streams.Quarantine}: not routed (undecodable, a schema violation, a bad header)`,
    registers,
    collect: () => sample(quarantined, Streams.Quarantine)(),
  });
  const unrouted: Gauge = new Gauge({
    name: "jetbus_unrouted_messages",
    help: `Events in ${Streams.Unrouted}: no routing rule matched`,
    registers,
    collect: () => sample(unrouted, Streams.Unrouted)(),
  });
  return off;
}
