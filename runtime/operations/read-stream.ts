import { DeliverPolicy, jetstream, type JetStreamManager, type JsMsg, type OrderedConsumerOptions } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

export type ReadOptions = Partial<Pick<OrderedConsumerOptions, "deliver_policy" | "opt_start_seq" | "opt_start_time" | "headers_only">> & {
  filter: string;
  /** Stop after this stream sequence (inclusive). Defaults to the stream's last sequence when the read starts. */
  untilSeq?: number;
  batch?: number;
};

/**
 * Reads a bounded slice of a stream with an ordered (ephemeral, flow-controlled) consumer and
 * stops at the end of what was there when it started: an operator command must finish even
 * while producers keep publishing. `onMsg` returning false stops early.
 */
export async function readStream(
  nc: NatsConnection,
  jsm: JetStreamManager,
  stream: string,
  opts: ReadOptions,
  onMsg: (m: JsMsg) => boolean | void | Promise<boolean | void>,
): Promise<void> {
  const info = await jsm.streams.info(stream);
  const lastSeq = Math.min(opts.untilSeq ?? Number.MAX_SAFE_INTEGER, info.state.last_seq);
  if (info.state.messages === 0 || lastSeq < Math.max(1, opts.opt_start_seq ?? 1)) return;
  const consumer = await jetstream(nc).consumers.get(stream, {
    filter_subjects: opts.filter,
    deliver_policy: opts.deliver_policy ?? DeliverPolicy.All,
    ...(opts.opt_start_seq !== undefined ? { opt_start_seq: opts.opt_start_seq } : {}),
    ...(opts.opt_start_time !== undefined ? { opt_start_time: opts.opt_start_time } : {}),
    ...(opts.headers_only ? { headers_only: true } : {}),
  });
  try {
    for (;;) {
      // a fetch that comes back empty means nothing (more) matches the filter in range
      const batch = await consumer.fetch({ max_messages: opts.batch ?? 256, expires: 1000 });
      let got = 0;
      for await (const m of batch) {
        got++;
        if (m.seq > lastSeq) return;
        if ((await onMsg(m)) === false) return;
        if (m.seq >= lastSeq || m.info.pending === 0) return;
      }
      if (got === 0) return;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}
