import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { PublishError, TimeoutError } from "../errors.ts";
import { statusOf } from "../events/headers.ts";
import { headerBlockOf } from "./delivered.ts";
import { DirectMessage } from "./direct.ts";
import { connectionInbox } from "./inbox.ts";

export type RangeRequest = Readonly<{ seq: number; batch: number; next_by_subj: string }>;

/** What one batched direct get answered: the messages, and how many more match after the last (0: none). */
export type RangeAnswer = Readonly<{ messages: DirectMessage[]; pending: number }>;

/**
 * One batched direct get (`next_by_subj` with `batch`, nats-server 2.11+) whose messages keep
 * their header blocks unparsed (DirectMessage): the client's getBatch parses every message's
 * headers into a map, which was a third of the client CPU of reading an aggregate's 1,000
 * events, most of it in garbage. A 404 answer is an empty range; a 503 (no leader, or a stream
 * without direct gets) a retryable PublishError; no end-of-batch within `timeoutMs` a TimeoutError.
 */
export function directRange(nc: NatsConnection, stream: string, req: RangeRequest, timeoutMs = 5000): Promise<RangeAnswer> {
  return new Promise((resolve, reject) => {
    const inbox = `${connectionInbox(nc)}.range.${nextId++}`;
    const messages: DirectMessage[] = [];
    const done = (err?: Error, pending = 0) => {
      clearTimeout(timer);
      sub.unsubscribe();
      if (err) reject(err);
      else resolve({ messages, pending });
    };
    const sub = nc.subscribe(inbox, {
      callback: (err, msg: Msg) => {
        if (err) return done(err);
        const block = headerBlockOf(msg);
        const code = block === undefined ? (msg.headers?.code ?? 0) : statusOf(block);
        if (code === 0) {
          messages.push(new DirectMessage(msg, block));
          return;
        }
        if (code === 404) return done();
        if (code === 204) {
          const last = messages[messages.length - 1];
          return done(undefined, last ? pendingOf(last) : 0);
        }
        done(
          new PublishError(`batched direct get from ${stream} failed: ${code} ${msg.headers?.description ?? ""}`.trim(), {
            retryable: code === 503 || code === 408,
          }),
        );
      },
    });
    const timer = setTimeout(
      () =>
        done(new TimeoutError(`no end to a batched direct get from ${stream} within ${timeoutMs} ms (${messages.length} messages so far)`)),
      timeoutMs,
    );
    nc.publish(`$JS.API.DIRECT.GET.${stream}`, JSON.stringify(req), { reply: inbox });
  });
}

let nextId = 0;

/** `Nats-Num-Pending` of a batch's message: how many more match after it. */
function pendingOf(m: DirectMessage): number {
  return Number(m.header("Nats-Num-Pending") ?? 0);
}

/** When the store recorded a direct get's message (`Nats-Time-Stamp`). */
export function storedTimeOf(m: DirectMessage): Date {
  return new Date(m.header("Nats-Time-Stamp") ?? 0);
}
