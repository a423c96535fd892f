import type { JetStreamManager, StreamInfo } from "@nats-io/jetstream";
import type { JetbusConfig } from "../config/types.ts";
import { isNotFound, isPermission } from "../nats/errors.ts";
import { Buckets, indexStreamFor, Streams } from "../topology.ts";

/** Streams and buckets jetbus owns: the event store, JETBUS_*, and KV buckets named jetbus-*. */
export function isJetbusStream(name: string, eventStream: string): boolean {
  return name === eventStream || name.startsWith("JETBUS_") || name.startsWith("KV_jetbus-");
}

/** Every stream and bucket name a jetbus deployment with this config uses. */
export function knownJetbusStreams(config: JetbusConfig): string[] {
  const events = config.store.stream;
  return [
    events,
    indexStreamFor(events),
    Streams.Inbox,
    Streams.DeadLetter,
    Streams.Unrouted,
    Streams.Quarantine,
    `KV_${Buckets.Config}`,
    `KV_${Buckets.Presence}`,
    ...config.actors.map((a) => `KV_${Buckets.processed(a.name)}`),
  ];
}

/**
 * jetbus's streams as this user may see them. The admin lists them all; a role user of the
 * deploy/ accounts may not list streams, so it looks up the known names one by one and judges
 * those it may read (the router sees the store and inboxes, an actor its inbox and buckets).
 */
export async function ownedStreams(jsm: JetStreamManager, config: JetbusConfig): Promise<{ streams: StreamInfo[]; partial: boolean }> {
  const events = config.store.stream;
  try {
    const streams: StreamInfo[] = [];
    for await (const s of jsm.streams.list()) if (isJetbusStream(s.config.name, events)) streams.push(s);
    return { streams, partial: false };
  } catch (err) {
    if (!isPermission(err)) throw err;
  }
  const streams: StreamInfo[] = [];
  let partial = false;
  for (const name of knownJetbusStreams(config)) {
    try {
      streams.push(await jsm.streams.info(name));
    } catch (err) {
      if (isPermission(err)) partial = true;
      else if (!isNotFound(err)) throw err;
    }
  }
  return { streams, partial };
}
