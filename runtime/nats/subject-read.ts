import { readBounded, type BoundedMsg } from "./bounded-read.ts";

export type SubjectReadOptions = Readonly<{
  /** `last`: the newest message of each subject (a KV bucket's current entries); `all`: every message, in stream order. */
  deliver: "last" | "all";
  /** Messages a request asks for (default 256): one round trip per batch. */
  batch?: number;
}>;

/** A message of a subject read, with the stream timestamp as JsMsg has it. */
export type SubjectMsg = BoundedMsg & Readonly<{ info: Readonly<{ timestampNanos: number }> }>;

/**
 * Reads the messages of `filter` in `stream` with ONE bounded read (readBounded), instead of
 * listing the subjects and asking for each one (a request per key). With `last`, a subject
 * rewritten during the read is still read (test/integration/kv-read-rewrites.int.test.ts), and
 * may come twice: callers keep the later message. `onMsg` returning false stops early.
 */
export async function readSubjects(
  nc: Parameters<typeof readBounded>[0],
  stream: string,
  filter: string,
  opts: SubjectReadOptions,
  onMsg: (m: SubjectMsg) => boolean | void,
): Promise<void> {
  for await (const m of readBounded(nc, stream, { filter, lastPerSubject: opts.deliver === "last", batch: opts.batch })) {
    if (onMsg({ ...m, info: { timestampNanos: m.time.getTime() * 1_000_000 } }) === false) return;
  }
}
