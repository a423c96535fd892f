import { DeliverPolicy, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { readBounded, type BoundedMsg } from "../nats/bounded-read.ts";

export type ReadOptions = Readonly<{
  filter: string;
  deliver_policy?: DeliverPolicy;
  opt_start_seq?: number;
  opt_start_time?: string;
  headers_only?: boolean;
  /** Stop after this stream sequence (inclusive). Defaults to the end of what was there when the read started. */
  untilSeq?: number;
  batch?: number;
}>;

/**
 * A bounded slice of a stream for an operator command (readBounded: what was there when it
 * started, so the command finishes while producers keep publishing). `onMsg` returning false
 * stops early. A missing stream is the server's not-found error (callers use orMissing).
 */
export async function readStream(
  nc: NatsConnection,
  _jsm: JetStreamManager,
  stream: string,
  opts: ReadOptions,
  onMsg: (m: BoundedMsg) => boolean | void | Promise<boolean | void>,
): Promise<void> {
  const reads = readBounded(nc, stream, {
    filter: opts.filter,
    fromSeq: opts.deliver_policy === DeliverPolicy.StartSequence ? opts.opt_start_seq : undefined,
    since: opts.deliver_policy === DeliverPolicy.StartTime && opts.opt_start_time ? new Date(opts.opt_start_time) : undefined,
    toSeq: opts.untilSeq,
    headersOnly: opts.headers_only,
    batch: opts.batch,
  });
  for await (const m of reads) if ((await onMsg(m)) === false) return;
}
