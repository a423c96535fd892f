import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import { JetbusError, PublishError, TimeoutError } from "../errors.ts";
import { connectionInbox } from "./inbox.ts";

/** One message of a batched direct get, as the stream holds it. */
export type BatchMessage = Readonly<{ subject: string; data: Uint8Array; headers: MsgHdrs; seq: number; time: Date }>;

/** What one batched direct get asks for (nats-server 2.11+; fields as the server names them). */
export type DirectBatchRequest = Readonly<{
  batch: number;
  seq?: number;
  start_time?: string;
  next_by_subj?: string;
  multi_last?: readonly string[];
  up_to_seq?: number;
}>;

export type DirectBatch =
  /** The messages (none when nothing is stored from there on) and how many more matched after the last one when it was read. */
  | Readonly<{ answered: true; messages: BatchMessage[]; pending: number }>
  /**
   * Nobody answered direct gets of this stream: it does not exist, it has `allow_direct: false`
   * (made by hand), or it has no leader right now. One stream info tells which (see bounded-read.ts).
   */
  | Readonly<{ answered: false }>;

/**
 * One batched direct get, collected: up to `req.batch` messages, each answered as its own reply
 * and closed by an end-of-batch status (204) that says how many more matched; 404 means nothing
 * is stored from there on. The request goes on the connection's inbox prefix (the deploy/
 * accounts only let a user receive there) and on the JetStream API subject the client uses, so
 * the same permissions apply.
 */
export async function directBatch(nc: NatsConnection, stream: string, req: DirectBatchRequest, timeoutMs = 5000): Promise<DirectBatch> {
  const inbox = connectionInbox(nc);
  const sub = nc.subscribe(inbox, { timeout: timeoutMs });
  nc.publish(`$JS.API.DIRECT.GET.${stream}`, JSON.stringify(req), { reply: inbox });
  const messages: BatchMessage[] = [];
  try {
    for await (const m of sub) {
      const h = m.headers;
      const code = h?.code ?? 0;
      if (code === 0 && h) {
        messages.push({
          subject: h.get("Nats-Subject"),
          data: m.data,
          headers: h,
          seq: Number(h.get("Nats-Sequence")),
          time: new Date(h.get("Nats-Time-Stamp")),
        });
        continue;
      }
      if (code === 404) return { answered: true, messages, pending: 0 };
      if (code === 204) return { answered: true, messages, pending: Number(h?.get("Nats-Num-Pending") ?? 0) };
      if (code === 503) return { answered: false };
      throw new PublishError(`batched direct get from ${stream} failed: ${code} ${h?.description ?? "no headers"}`, {
        retryable: code === 408,
      });
    }
  } catch (err) {
    if (err instanceof JetbusError) throw err;
    throw new TimeoutError(`no complete answer to a batched direct get from ${stream} within ${timeoutMs} ms (${(err as Error).message})`);
  } finally {
    sub.unsubscribe();
  }
  throw new TimeoutError(`batched direct get from ${stream} ended without its end-of-batch marker`);
}
