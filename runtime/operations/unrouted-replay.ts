import { jetstream, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { decodeEvent } from "../events/codec.ts";
import { orMissing } from "../nats/missing.ts";
import { copyMessage } from "../routing/copies.ts";
import type { RuleSet } from "../routing/types.ts";
import { Streams } from "../topology.ts";
import type { SetAside } from "./set-aside.ts";

/** What replaying one unrouted event did. */
export type UnroutedReplay = Readonly<{
  seq: number;
  eventId: string;
  type: string;
  /** routed: copies published to these actors' inboxes and removed from JETBUS_UNROUTED; still-unrouted: no rule matches it now either. */
  outcome: "routed" | "still-unrouted" | "undecodable";
  actors: readonly string[];
  reason?: string;
}>;

/**
 * Routes unrouted events with the rules running now (the live config): each copy goes straight
 * to the actor's inbox, exactly as the router would publish it (Nats-Msg-Id `<id>:<actor>`,
 * origin sequence, rule, revision), and the event leaves JETBUS_UNROUTED once every copy is
 * acked. The store is not written: the event is already there. Copies are published in the
 * order listed, after whatever the router published meanwhile, so an ordered actor gets a
 * replayed event after newer events of the same key.
 */
export async function replayUnrouted(
  nc: NatsConnection,
  jsm: JetStreamManager,
  storeStream: string,
  rules: RuleSet,
  chosen: readonly SetAside[],
  o: { onProgress?: (done: number, total: number) => void } = {},
): Promise<UnroutedReplay[]> {
  const js = jetstream(nc);
  const done: UnroutedReplay[] = [];
  for (const [i, u] of chosen.entries()) {
    o.onProgress?.(i, chosen.length);
    const stored = await orMissing(() => jsm.streams.getMessage(Streams.Unrouted, { seq: u.seq }));
    if (!stored) continue;
    const base = { seq: u.seq, eventId: u.eventId, type: u.type };
    let event;
    try {
      event = decodeEvent(
        {
          subject: u.subject,
          data: stored.data,
          headers: stored.header,
          seq: u.originSeq ?? 0,
          stream: storeStream,
          timestamp: stored.time,
        },
        { maxBytes: Number.MAX_SAFE_INTEGER },
      ).event;
    } catch (err) {
      done.push({ ...base, outcome: "undecodable", actors: [], reason: (err as Error).message });
      continue;
    }
    const copies = rules.plan(event);
    if (copies.length === 0) {
      done.push({ ...base, outcome: "still-unrouted", actors: [] });
      continue;
    }
    await Promise.all(
      copies.map((c) => {
        // a replay may repeat an earlier one: the actor checks its marker
        const msg = copyMessage(c, u.originSeq ?? 0, rules.revision, true);
        return js.publish(msg.subject, msg.data, { headers: msg.headers });
      }),
    );
    await jsm.streams.deleteMessage(Streams.Unrouted, u.seq, false);
    done.push({ ...base, outcome: "routed", actors: copies.map((c) => c.actor) });
  }
  o.onProgress?.(chosen.length, chosen.length);
  return done;
}
