import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { ChainedPublisher } from "../../runtime/routing/chain.ts";
import { BulkPublisher } from "../../runtime/store/bulk.ts";
import type { OutgoingMessage } from "../../runtime/store/types.ts";
import { startServer } from "../helpers/nats.ts";

const enc = new TextEncoder();
const msg = (subject: string, body: string): OutgoingMessage => ({ subject, data: enc.encode(body) });

function later<T>(ms: number, value: T): Promise<T> {
  return new Promise((r) => setTimeout(() => r(value), ms));
}

/**
 * The ordered lane takes a copy's place in its subject's chain before the copy is made (its
 * dup-check header waits for the index): the chain keeps the call order whatever order the
 * messages are ready in, and a message that fails after an earlier link failed is not an
 * unhandled rejection (it ended a router process before).
 */
test("a chain publishes in call order when messages are ready out of order; failures stop the chain, never unhandled", async () => {
  const { nc, stop } = await startServer();
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  process.on("unhandledRejection", onUnhandled);
  const bulk = new BulkPublisher(nc);
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "CHAIN", subjects: ["chain.>"], storage: "memory" });
    const chains = new ChainedPublisher(bulk);
    const acks = [
      chains.publish("chain.a", later(60, msg("chain.a", "1"))),
      chains.publish("chain.a", msg("chain.a", "2")),
      chains.publish("chain.a", later(10, msg("chain.a", "3"))),
    ];
    const seqs = (await Promise.all(acks)).map((a) => a.seq);
    assert.equal(seqs, [1, 2, 3], "stored in call order");
    const bodies = await Promise.all(
      [1, 2, 3].map(async (seq) => new TextDecoder().decode((await jsm.streams.getMessage("CHAIN", { seq }))!.data)),
    );
    assert.equal(bodies, ["1", "2", "3"]);

    // the first link fails; the second's message fails too, later: each ack rejects, nothing goes unhandled
    const failing = chains.publish("chain.b", Promise.reject(new Error("index read failed")));
    const second = chains.publish(
      "chain.b",
      later(20, null).then(() => Promise.reject(new Error("second failed"))),
    );
    const third = chains.publish("chain.b", msg("chain.b", "never"));
    const outcomes = await Promise.allSettled([failing, second, third]);
    assert.equal(
      outcomes.map((o) => o.status),
      ["rejected", "rejected", "rejected"],
    );
    await later(100, null);
    assert.equal(unhandled, []);
    assert.is((await jsm.streams.info("CHAIN")).state.messages, 3, "nothing of the failed chain was published");
  } finally {
    process.off("unhandledRejection", onUnhandled);
    await bulk.close();
    await stop();
  }
});

test.run();
