import type { DirectBatchOptions, JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import { isNothingFromHere } from "./errors.ts";

/**
 * One batched direct get (nats-server 2.11+), collected: up to `opts.batch` messages from
 * `opts.seq` (on `next_by_subj` when given). Empty when nothing is stored from there on.
 */
export async function directBatch(jsm: JetStreamManager, stream: string, opts: DirectBatchOptions): Promise<StoredMsg[]> {
  const out: StoredMsg[] = [];
  try {
    for await (const m of await jsm.direct.getBatch(stream, opts)) out.push(m);
  } catch (err) {
    if (!isNothingFromHere(err)) throw err;
  }
  return out;
}
