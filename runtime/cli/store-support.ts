import { jetstreamManager } from "@nats-io/jetstream";
import type { Runtime } from "../app/bootstrap.ts";
import type { Logger } from "../log.ts";
import type { Indexer } from "../store/indexer.ts";
import { EventStore } from "../store/queries.ts";
import { ensureStore, StoreAccess } from "../store/stream.ts";
import type { StoredEvent } from "../store/types.ts";

/**
 * What every store command does first: find both streams, used as they are (a missing one is a
 * StoreMissingError). The indexer is loaded only by a command that asks for it: `history`
 * without --correlation-id never does.
 */
export async function openStore(rt: Runtime): Promise<{ store: EventStore; indexer: () => Promise<Indexer>; quietLogger: Logger }> {
  await ensureStore(await jetstreamManager(rt.nc, { checkAPI: false }), rt.config.store, StoreAccess.Use);
  // the CLI's stdout is its answer; only warnings go to stderr
  const quietLogger = rt.logger.child({ component: "store" }, { level: "warn" });
  const store = new EventStore(rt.nc, { stream: rt.config.store.stream, logger: quietLogger, metrics: rt.metrics });
  let indexer: Promise<Indexer> | undefined;
  const indexerOf = () =>
    (indexer ??= import("../store/indexer.ts").then(
      ({ Indexer }) => new Indexer(rt.nc, rt.config.store, { logger: quietLogger, metrics: rt.metrics, storeAccess: StoreAccess.Use }),
    ));
  return { store, indexer: indexerOf, quietLogger };
}

/**
 * Index lookups from a CLI should see what was just published: with a router running, wait for it
 * to index what is pending; without one, index it here (see Indexer.catchUp).
 */
export async function indexPending(indexer: Indexer): Promise<void> {
  if ((await indexer.lag()) === 0) return;
  await indexer.catchUp({ timeoutMs: 60_000 });
}

/** `--json`: the structured CloudEvent plus its store sequence (a CloudEvents extension attribute). */
export function eventJsonLine(e: StoredEvent): string {
  return JSON.stringify({ ...e.event, seq: e.seq }) + "\n";
}

export function eventTextLine(e: StoredEvent): string {
  const ev = e.event;
  const corr = ev.correlationid === ev.id ? "" : `  corr=${ev.correlationid}`;
  return `${String(e.seq).padStart(6)}  ${e.time.toISOString()}  ${ev.type}  ${ev.id}${corr}  ${JSON.stringify(ev.data)}\n`;
}
