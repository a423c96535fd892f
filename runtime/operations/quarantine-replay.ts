import { jetstream, type JetStreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { Header, STRUCTURED_CONTENT_TYPE } from "../events/codec.ts";
import { orMissing } from "../nats/missing.ts";
import { admit } from "../routing/admit.ts";
import type { EventSchemas } from "../store/schemas.ts";
import { JetbusHeaders, Streams } from "../topology.ts";
import { ORIGINAL_MSG_ID, type SetAside } from "./set-aside.ts";

/** What replaying one quarantined message did. */
export type QuarantineReplay = Readonly<{
  seq: number;
  eventId: string;
  subject: string;
  /** republished: stored again on its subject and removed from quarantine; still-invalid: left where it is. */
  outcome: "republished" | "still-invalid";
  /** Its new store sequence (republished). */
  storeSeq?: number;
  /** Why it still fails the router's rules: the router will quarantine it again (republished with force) or it was kept. */
  stillFails?: string;
}>;

const QUARANTINE_ONLY = new Set([JetbusHeaders.Reason, JetbusHeaders.OriginSeq, ORIGINAL_MSG_ID, Header.MsgId].map((k) => k.toLowerCase()));

/** A raw body (no CloudEvents header, not structured) keeps its id only when the id travels in a header. */
function isRaw(h: MsgHdrs, data: Uint8Array): boolean {
  if (h.get(Header.Id) || h.get(Header.SpecVersion) || h.get(Header.Type)) return false;
  if ((h.get(Header.ContentType) ?? "").toLowerCase().startsWith(STRUCTURED_CONTENT_TYPE)) return false;
  try {
    const body = JSON.parse(new TextDecoder().decode(data)) as unknown;
    return !(typeof body === "object" && body !== null && "specversion" in body);
  } catch {
    return true;
  }
}

/**
 * Stores quarantined messages again on their original subject, so the router sees them anew
 * (after a schema or the config was fixed). The message keeps its bytes, headers and event id;
 * a raw body gets its id and original time as `ce-id`/`ce-time` (a raw id was the store position
 * `<stream>-<seq>`, which a new position would change). The Nats-Msg-Id `<id>:replay:q<seq>` makes a
 * repeated replay of the same entry a no-op inside the duplicate window.
 * Each message is first checked as the router will check it: one that still fails stays in
 * quarantine (`still-invalid`), unless `force`, when it is republished anyway and the router
 * quarantines it again.
 */
export async function replayQuarantined(
  nc: NatsConnection,
  jsm: JetStreamManager,
  storeStream: string,
  chosen: readonly SetAside[],
  o: { schemas: EventSchemas; force?: boolean; onProgress?: (done: number, total: number) => void },
): Promise<QuarantineReplay[]> {
  const js = jetstream(nc);
  const done: QuarantineReplay[] = [];
  for (const [i, q] of chosen.entries()) {
    o.onProgress?.(i, chosen.length);
    const stored = await orMissing(() => jsm.streams.getMessage(Streams.Quarantine, { seq: q.seq }));
    if (!stored) continue; // replayed or removed by someone else meanwhile
    const h = natsHeaders();
    if (stored.header)
      for (const k of stored.header.keys())
        if (!QUARANTINE_ONLY.has(k.toLowerCase())) for (const v of stored.header.values(k)) h.append(k, v);
    const original = q.originSeq ? await orMissing(() => jsm.streams.getMessage(storeStream, { seq: q.originSeq! })) : null;
    if (isRaw(h, stored.data)) {
      h.set(Header.Id, q.eventId);
      if (!h.get(Header.Time)) h.set(Header.Time, (original?.time ?? stored.time).toISOString());
    }
    const check = admit(
      {
        subject: q.subject,
        data: stored.data,
        headers: h,
        seq: q.originSeq ?? 0,
        stream: storeStream,
        timestamp: original?.time ?? stored.time,
      },
      o.schemas,
    );
    if (check.reason !== undefined && !o.force) {
      done.push({ seq: q.seq, eventId: q.eventId, subject: q.subject, outcome: "still-invalid", stillFails: check.reason });
      continue;
    }
    const ack = await js.publish(q.subject, stored.data, { headers: h, msgID: `${q.eventId}:replay:q${q.seq}` });
    await jsm.streams.deleteMessage(Streams.Quarantine, q.seq, false);
    done.push({
      seq: q.seq,
      eventId: q.eventId,
      subject: q.subject,
      outcome: "republished",
      storeSeq: ack.seq,
      ...(check.reason !== undefined ? { stillFails: check.reason } : {}),
    });
  }
  o.onProgress?.(chosen.length, chosen.length);
  return done;
}
