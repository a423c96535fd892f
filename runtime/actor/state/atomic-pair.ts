import { headers, nuid, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";

const decoder = new TextDecoder();

export type PairPart = Readonly<{ subject: string; data: Uint8Array; headers?: MsgHdrs }>;

/**
 * Two messages of one stream written by one atomic batch; resolves with the second's sequence (nats-server 2.12+), in one round trip:
 * the first is a plain publish (the server stages it), the second commits and is the only one
 * answered (the client's startBatch asks for an answer to the first as well: a second round trip).
 * Costly on file storage: nats-server 2.15.1 took ~9 ms per batch and ~60 batches/s per stream
 * however many ran at once (`npx tsx bench/run.ts stateful`'s probe line), so the state store uses it
 * only when a handling's marker is too large to travel in a header.
 */
export async function publishAtomicPair(nc: NatsConnection, first: PairPart, last: PairPart): Promise<number> {
  const id = nuid.next();
  const fh = first.headers ?? headers();
  const lh = last.headers ?? headers();
  fh.set("Nats-Batch-Id", id);
  fh.set("Nats-Batch-Sequence", "1");
  lh.set("Nats-Batch-Id", id);
  lh.set("Nats-Batch-Sequence", "2");
  lh.set("Nats-Batch-Commit", "1");
  nc.publish(first.subject, first.data, { headers: fh });
  const reply = await nc.request(last.subject, last.data, { headers: lh, timeout: 5000 });
  const ack = JSON.parse(decoder.decode(reply.data)) as {
    seq?: number;
    count?: number;
    error?: { code: number; err_code?: number; description?: string };
  };
  if (ack.error || ack.count !== 2)
    throw new AtomicBatchRefusedError(ack.error?.description ?? `batch stored ${ack.count ?? 0} of 2 messages`, ack.error?.err_code);
  // the sequence of the batch's last message (the second); 0 when the server did not say
  return ack.seq ?? 0;
}

/** The server refused an atomic batch (a failed expectation, most often): told apart by the caller. */
export class AtomicBatchRefusedError extends Error {
  override name = "AtomicBatchRefusedError";
  constructor(
    message: string,
    readonly apiCode?: number,
  ) {
    super(message);
  }
}
