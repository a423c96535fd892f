// How many messages one pull of an actor worker asks for (docs/concepts/actors.md: "up to 4 x concurrency, 64 by default").
import { test } from "uvu";
import * as assert from "uvu/assert";
import { configFrom } from "../../runtime/config/load.ts";
import { pullBatchOf } from "../../runtime/actor/worker.ts";

const actor = (a: Record<string, unknown>) => configFrom({ actors: [{ name: "a", ...a }], routes: { rules: [] } }).actors[0]!;

test("a worker pulls 4 x concurrency: 64 with the defaults", () => {
  assert.is(pullBatchOf(actor({})), 64);
  assert.is(pullBatchOf(actor({ concurrency: 1 })), 4);
});

test("never more than max_ack_pending (the server would not hand more out); an ordered partition pulls one", () => {
  assert.is(pullBatchOf(actor({ concurrency: 100, max_ack_pending: 250 })), 250);
  assert.is(pullBatchOf(actor({ ordered: { key: "data.k", partitions: 2 } })), 1);
});

test.run();
