import { DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { retryTransient } from "./connect.ts";

export type SubjectReadOptions = Readonly<{
  /** `last`: the newest message of each subject (a KV bucket's current entries); `all`: every message, in stream order. */
  deliver: "last" | "all";
  /** Messages a pull asks for (default 256, as the other stream reads pull): one round trip per batch. */
  batch?: number;
}>;

/**
 * Reads the messages of `filter` in `stream` with ONE ordered consumer, instead of listing the
 * subjects and asking for each one (a request per key). The consumer's starting set (the last
 * message of each subject) is fixed when it is created, so every message of it is at or before
 * the stream's last sequence read right after the creation: the read stops there, or once nothing
 * is pending. A subject rewritten during the read is still read (the consumer delivers its
 * message from the starting set, and the newer one if it comes before the stop), where stopping at
 * a last sequence read BEFORE the creation missed it (test/integration/kv-read-rewrites.int.test.ts).
 * An ordered consumer that resets mid-read restarts after the last sequence seen, so a subject may
 * come twice: callers keep the later message. `onMsg` returning false stops early.
 */
export async function readSubjects(
  nc: NatsConnection,
  stream: string,
  filter: string,
  opts: SubjectReadOptions,
  onMsg: (m: JsMsg) => boolean | void,
): Promise<void> {
  const consumer = await retryTransient(() =>
    jetstream(nc).consumers.get(stream, {
      filter_subjects: filter,
      deliver_policy: opts.deliver === "last" ? DeliverPolicy.LastPerSubject : DeliverPolicy.All,
    }),
  );
  try {
    // the creation's answer says how many messages the starting set holds
    if ((await consumer.info(true)).num_pending === 0) return;
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    const lastSeq = (await retryTransient(() => jsm.streams.info(stream))).state.last_seq;
    for (;;) {
      const batch = await consumer.fetch({ max_messages: opts.batch ?? 256, expires: 1000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        if (onMsg(m) === false || m.info.pending === 0 || m.seq >= lastSeq) return;
      }
      // nothing delivered within the pull's expiry: nothing (more) matches
      if (got === 0) return;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}
