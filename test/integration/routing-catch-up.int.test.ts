import { test } from "uvu";
import * as assert from "uvu/assert";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { rerouteUnacked } from "../../runtime/routing/catch-up.ts";
import { startServer } from "../helpers/nats.ts";
import { waitFor } from "../helpers/wait.ts";

/**
 * A lane taking a durable over re-routes every delivered-but-unacked event in stream order,
 * skipping only messages the stream no longer holds: read in batches (batched direct gets when
 * allowed, an ordered consumer when not). 600 messages: more than one batch of 256.
 */
for (const allowDirect of [true, false]) {
  test(`re-routes the unacked range in stream order, gaps skipped (${allowDirect ? "batched direct gets" : "an ordered consumer"})`, async () => {
    const { nc, stop } = await startServer();
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "S", subjects: ["s.>"], allow_direct: allowDirect });
      const js = jetstream(nc);
      for (let i = 1; i <= 600; i++) await js.publish(`s.k${i % 7}`, `m${i}`);
      await jsm.consumers.add("S", { durable_name: "d", ack_policy: AckPolicy.Explicit, max_ack_pending: 1000 });
      const taken = await (await js.consumers.get("S", "d")).fetch({ max_messages: 600, expires: 5000 });
      const bySeq = new Map<number, () => void>();
      for await (const m of taken) bySeq.set(m.seq, () => m.ack());
      // the first 10 acked (the floor), two gone from the stream since
      for (let s = 1; s <= 10; s++) bySeq.get(s)!();
      await waitFor(async () => (await jsm.consumers.info("S", "d")).ack_floor.stream_seq === 10, "the acks counted");
      await jsm.streams.deleteMessage("S", 300);
      await jsm.streams.deleteMessage("S", 555);
      const seen: number[] = [];
      const result = await rerouteUnacked(
        nc,
        jsm,
        "S",
        "d",
        async (m) => void seen.push(m.seq),
        () => false,
      );
      const expected = Array.from({ length: 590 }, (_, i) => i + 11).filter((s) => s !== 300 && s !== 555);
      assert.equal(seen, expected);
      assert.equal({ from: result.from, to: result.to, rerouted: result.rerouted }, { from: 11, to: 600, rerouted: 588 });
      assert.is(await result.settled, 0, "none failed");
    } finally {
      await stop();
    }
  });
}

test.run();
