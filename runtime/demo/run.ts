import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JetbusConfig } from "../config/types.ts";
import { loadConfig } from "../config/load.ts";
import { startRuntime } from "../app/bootstrap.ts";
import { noticeStoreDrift } from "../app/store-notice.ts";
import { registerBuiltinHandlers } from "../app/builtin-handlers.ts";
import { startServices } from "../app/services.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { liveConfig } from "../operations/live-config.ts";
import { dryRun } from "../routing/dry-run.ts";
import { EventBus } from "../store/bus.ts";
import { EventStore } from "../store/queries.ts";
import { Indexer } from "../store/indexer.ts";
import type { Logger } from "../log.ts";
import { createEvent } from "../events/codec.ts";
import { SEED_CORRELATION, SEED_EVENTS, SEED_SOURCE } from "./seed.ts";
import { waitHandled, type Expected, type Handled } from "./handled.ts";

export type DemoOptions = Readonly<{
  configPath?: string;
  /** An existing NATS deployment; without it the demo runs on a fresh embedded server in a temp dir. */
  servers?: string;
  logger?: Logger;
  timeoutMs?: number;
  /** Progress lines ("Producing events..."), as the seed's main() logs them. */
  say?: (line: string) => void;
}>;

export type DemoReport = Readonly<{
  createdCount: number;
  correlationCount: number;
  handled: readonly Handled[];
  /** Routed deliveries to actors that keep no processed markers (idempotency off): not observable, not waited for. */
  unobserved: readonly Expected[];
  storeDir?: string;
}>;

/**
 * The seed article's main(), made real: the router and the actors run as they would in
 * production, the events go through the JetStream store, and every figure printed is read back
 * from that store. A fresh embedded store per run keeps the counts those of this run.
 */
export async function runDemo(o: DemoOptions = {}): Promise<DemoReport> {
  const say = o.say ?? (() => undefined);
  const servers = o.servers ?? process.env.NATS_URL;
  const fileConfig = loadConfig(o.configPath);
  const tmp = servers ? undefined : mkdtempSync(join(tmpdir(), "jetbus-demo-"));
  const config: JetbusConfig = tmp
    ? { ...fileConfig, nats: { ...fileConfig.nats, embedded: { ...fileConfig.nats.embedded, store_dir: join(tmp, "data"), port: 0 } } }
    : fileConfig;
  const rt = await startRuntime({ config, servers, name: "jetbus-demo", logger: o.logger });
  try {
    // against a deployment (--servers) the store is used as found, never changed; say so when it differs
    await noticeStoreDrift(rt.nc, config);
    // the demo config's actors are the seed's handlers (actors/)
    await registerBuiltinHandlers();
    const services = await startServices(rt, { http: false });
    try {
      // the rules the routers run: a revision applied with `jetbus config apply` wins over the file
      const routing = (await liveConfig(await jetstreamManager(rt.nc), config)).config;
      const bus = new EventBus(rt.nc, { maxMsgSize: config.store.max_msg_size });
      say("Producing events...");
      const expected: Expected[] = [];
      for (const seed of SEED_EVENTS) {
        const event = createEvent({ type: seed.type, data: seed.data, source: SEED_SOURCE, correlationid: SEED_CORRELATION });
        await bus.publishEvent(event);
        for (const copy of dryRun(routing, event).copies) expected.push({ event, actor: copy.actor });
      }
      await bus.close();
      const observable = new Set(routing.actors.filter((a) => a.idempotency.enabled).map((a) => a.name));
      say("Waiting for the actors...");
      const handled = await waitHandled(
        rt.nc,
        expected.filter((e) => observable.has(e.actor)),
        o.timeoutMs ?? 60_000,
      );
      // the router indexes each event as it routes it
      await new Indexer(rt.nc, config.store).waitCaughtUp(o.timeoutMs ?? 60_000);
      say("Querying events from store...");
      const store = new EventStore(rt.nc, { stream: config.store.stream });
      const createdCount = (await store.getByType("UserCreated", { limit: 10_000 })).length;
      const correlationCount = (await store.getByCorrelationId(SEED_CORRELATION)).length;
      return { createdCount, correlationCount, handled, unobserved: expected.filter((e) => !observable.has(e.actor)), storeDir: tmp };
    } finally {
      await services.stop();
    }
  } finally {
    await rt.dispose();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}
