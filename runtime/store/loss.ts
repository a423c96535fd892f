import type { JetStreamManager, MsgRequest, StreamInfo } from "@nats-io/jetstream";
import { isNotFound } from "../nats/errors.ts";
import { ChangeEffect, showValue, type StreamChange } from "./drift.ts";

/**
 * What one data-losing change would delete from this stream, measured where one request tells
 * (the first message inside a shorter max_age, by a get on its start time) or worked out from
 * the stream's state; otherwise the change's own description.
 */
export async function measureLoss(jsm: JetStreamManager, info: StreamInfo, change: StreamChange): Promise<string> {
  if (change.effect !== ChangeEffect.DataLoss) return "";
  const { messages, bytes, first_seq: first, num_deleted: gaps } = info.state;
  const name = info.config.name;
  // with interior deletes a sequence range over-counts: say "up to"
  const upTo = (n: number) => `${gaps ? "up to " : ""}${n} of the ${messages} stored message${messages === 1 ? "" : "s"}`;
  switch (change.key) {
    case "max_age": {
      if (messages === 0) return "nothing yet (the stream is empty); later, every message older than " + showValue("max_age", change.to);
      const cutoff = new Date(Date.now() - Number(change.to) / 1e6);
      const firstKept = await firstAtOrAfter(jsm, name, cutoff, info.config.allow_direct === true);
      const older = firstKept === undefined ? messages : Math.max(0, firstKept - first);
      return `deletes ${upTo(older)} (those older than ${showValue("max_age", change.to)})`;
    }
    case "max_msgs":
      return `deletes the oldest ${upTo(Math.max(0, messages - Number(change.to)))}`;
    case "max_bytes":
      return `deletes the oldest messages beyond ${String(change.to)} bytes: about ${Math.max(0, bytes - Number(change.to))} of the ${bytes} bytes stored`;
    case "storage":
      return `deletes all ${messages} stored message${messages === 1 ? "" : "s"} and the stream's consumers (${change.why})`;
    default:
      return change.why ?? "";
  }
}

/**
 * Sequence of the first message stored at or after `time`; undefined when there is none. A stream
 * made by hand (`nats stream add`) has allow_direct false and nothing answers a direct get: then
 * the leader's STREAM.MSG.GET, which takes start_time too (nats-server 2.11+; the client's
 * MsgRequest type does not list it yet).
 */
async function firstAtOrAfter(jsm: JetStreamManager, stream: string, time: Date, direct: boolean): Promise<number | undefined> {
  try {
    const m = direct
      ? await jsm.direct.getMessage(stream, { start_time: time })
      : await jsm.streams.getMessage(stream, { start_time: time } as unknown as MsgRequest);
    return m ? m.seq : undefined;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
