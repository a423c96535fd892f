// Shared by the router tests (not a test file itself: the runner only picks *.test.ts).
import { jetstream, jetstreamManager, type StoredMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { configFrom } from "../../runtime/config/load.ts";
import type { JetbusConfig } from "../../runtime/config/types.ts";
import { createEvent, encodeEvent } from "../../runtime/events/codec.ts";
import type { Event } from "../../runtime/events/types.ts";
import { createLogger } from "../../runtime/log.ts";
import { Metrics } from "../../runtime/observability/metrics.ts";
import type { RouterDeps } from "../../runtime/routing/router.ts";
import { JetbusHeaders } from "../../runtime/topology.ts";

export function routerDeps(nc: NatsConnection, config: JetbusConfig): RouterDeps {
  return { nc, config, logger: createLogger({ level: process.env.JETBUS_LOG_LEVEL ?? "silent", pretty: false }), metrics: new Metrics() };
}

export function testConfig(doc: Record<string, unknown>): JetbusConfig {
  return configFrom({ store: { storage: "memory", ...((doc.store as object) ?? {}) }, ...doc });
}

/** Publishes events in binary mode to the store, one JetStream ack each (order = store order). */
export async function publishEvents(nc: NatsConnection, events: readonly Event[]): Promise<number[]> {
  const js = jetstream(nc);
  const seqs: number[] = [];
  for (const e of events) {
    const w = encodeEvent(e);
    seqs.push((await js.publish(w.subject, w.data, { headers: w.headers })).seq);
  }
  return seqs;
}

export const event = (type: string, data: unknown, extra: { source?: string; correlationid?: string } = {}) => createEvent({ type, data, source: extra.source ?? "test", correlationid: extra.correlationid });

/** Every message of a stream (small streams only), in stream order. */
export async function readAll(nc: NatsConnection, stream: string): Promise<StoredMsg[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const out: StoredMsg[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (m) out.push(m);
  }
  return out;
}

export async function messageCount(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(stream).catch(() => null))?.state.messages ?? 0;
}

export const header = (m: StoredMsg, name: string) => m.header.get(name);
export const revisionOf = (m: StoredMsg) => Number(m.header.get(JetbusHeaders.ConfigRevision));
export const json = (m: StoredMsg) => JSON.parse(new TextDecoder().decode(m.data)) as unknown;
