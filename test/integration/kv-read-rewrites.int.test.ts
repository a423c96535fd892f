import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { startServer } from "../helpers/nats.ts";
import { readKvEntries } from "../../runtime/operations/kv-read.ts";

let env: Awaited<ReturnType<typeof startServer>>;
test.before(async () => {
  env = await startServer();
});
test.after(async () => {
  await env?.stop();
});

test("a last-per-subject read of a bucket lists every key while the keys are rewritten (heartbeats)", async () => {
  const kv = await new Kvm(jetstream(env.nc)).create("rewrites", { history: 1 });
  const KEYS = 20;
  for (let k = 0; k < KEYS; k++) await kv.put(`replica.${k}`, "0");
  // every key rewritten again and again, as presence heartbeats are: a key's newest entry is
  // often past the stream's last sequence as it was when the read started
  let writing = true;
  const writer = (async () => {
    for (let i = 1; writing; i++) await Promise.all(Array.from({ length: KEYS }, (_, k) => kv.put(`replica.${k}`, String(i))));
  })();
  const jsm = await jetstreamManager(env.nc);
  const short: number[] = [];
  try {
    for (let r = 0; r < 40; r++) {
      const entries = await readKvEntries(env.nc, jsm, "rewrites");
      if (entries!.length !== KEYS) short.push(entries!.length);
    }
  } finally {
    writing = false;
    await writer;
  }
  assert.equal(short, [], "reads that missed keys (their sizes)");
});

test.run();
