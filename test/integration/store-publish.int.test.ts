import { test } from "uvu";
import * as assert from "uvu/assert";
import { jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { configFrom } from "../../runtime/config/mod.ts";
import { EventTooLargeError, PublishError, SchemaViolationError } from "../../runtime/errors.ts";
import { BulkPublisher, EventBus, ensureEventStream } from "../../runtime/store/mod.ts";
import { startServer } from "../helpers/nats.ts";

const enc = new TextEncoder();

async function withStore(settings: Record<string, unknown>, fn: (ctx: Awaited<ReturnType<typeof startServer>> & { messages(): Promise<number> }) => Promise<void>): Promise<void> {
  const srv = await startServer();
  try {
    const jsm = await jetstreamManager(srv.nc);
    await ensureEventStream(jsm, configFrom({ store: settings }).store);
    await fn({ ...srv, messages: async () => (await jsm.streams.info("EVENTS")).state.messages });
  } finally {
    await srv.stop();
  }
}

test("publish stores a binary-mode event and answers with its id and sequence; the same id again is one message, reported duplicate", async () => {
  await withStore({}, async ({ nc, messages }) => {
    const bus = new EventBus(nc, { source: "user-service" });
    try {
      const first = await bus.publish("UserCreated", { user_id: "u1", username: "john", email: "john@example.com" }, { id: "evt-1", correlationId: "flow-1" });
      assert.equal(first, { id: "evt-1", seq: 1, duplicate: false });
      const retry = await bus.publish("UserCreated", { user_id: "u1", username: "john", email: "john@example.com" }, { id: "evt-1", correlationId: "flow-1" });
      assert.equal(retry, { id: "evt-1", seq: 1, duplicate: true });
      const other = await bus.publish("UserUpdated", { user_id: "u1" }, { causationId: "evt-1", correlationId: "flow-1" });
      assert.is(other.seq, 2);
      assert.ok(other.id.length > 0 && other.id !== "evt-1");
      assert.is(await messages(), 2);
      const m = await (await jetstreamManager(nc)).streams.getMessage("EVENTS", { seq: 1 });
      assert.is(m?.subject, "events.UserCreated");
      assert.is(m?.header.get("Nats-Msg-Id"), "evt-1");
      assert.is(m?.header.get("ce-source"), "user-service");
      assert.is(m?.header.get("ce-correlationid"), "flow-1");
      assert.equal(m?.json(), { user_id: "u1", username: "john", email: "john@example.com" });
    } finally {
      await bus.close();
    }
  });
});

test("data that does not match schemas/events/<Type>.json is refused listing each problem, and nothing is published", async () => {
  await withStore({}, async ({ nc, messages }) => {
    const bus = new EventBus(nc);
    try {
      const err = await bus.publish("UserCreated", { username: 7, email: "not-an-email" }).catch((e) => e);
      assert.instance(err, SchemaViolationError);
      const paths = (err as SchemaViolationError).problems.map((p) => p.path).sort();
      assert.equal(paths, ["email", "user_id", "username"]);
      assert.match(err.message, /user_id: is required/);
      // types without a schema file are not validated
      await bus.publish("Unschematised", { anything: true });
      const many = await bus.publishMany([
        { type: "UserDeleted", data: {} },
        { type: "UserDeleted", data: { user_id: "u9" } },
      ]);
      assert.is(many[0]!.status, "rejected");
      assert.is(many[1]!.status, "fulfilled");
      assert.is(await messages(), 2, "only the valid events are stored");
    } finally {
      await bus.close();
    }
  });
});

test("bulk publisher: every message gets its own ack or error; one over max_msg_size fails alone", async () => {
  await withStore({ max_msg_size: 1024 }, async ({ nc, messages }) => {
    const bulk = new BulkPublisher(nc, { window: 64 });
    try {
      const msgs = Array.from({ length: 300 }, (_, i) => {
        const h = headers();
        h.set("Nats-Msg-Id", `bulk-${i}`);
        return { subject: "events.Bulk", data: enc.encode(JSON.stringify({ i, pad: i === 150 ? "x".repeat(2000) : "" })), headers: h };
      });
      const results = await bulk.publishAll(msgs);
      const failed = results.flatMap((r, i) => (r.status === "rejected" ? [i] : []));
      assert.equal(failed, [150]);
      const reason = (results[150] as PromiseRejectedResult).reason;
      assert.instance(reason, PublishError);
      assert.match(reason.message, /size|maximum/i);
      const seqs = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.seq] : []));
      assert.is(new Set(seqs).size, 299, "each acked message has its own sequence");
      assert.is(await messages(), 299);
      // the same messages again (a producer retrying the whole batch): all duplicates, nothing new stored
      const again = await bulk.publishAll(msgs.filter((_, i) => i !== 150));
      assert.ok(again.every((r) => r.status === "fulfilled" && r.value.duplicate));
      assert.is(await messages(), 299);
      // a subject no stream captures: the server has no responder, so the message times out instead of hanging
      const lost = new BulkPublisher(nc, { ackTimeoutMs: 200, maxAttempts: 2 });
      const err = await lost.publish({ subject: "nowhere.at.all", data: enc.encode("{}") }).catch((e) => e);
      assert.match(String(err.message), /no ack/);
      await lost.close();
    } finally {
      await bulk.close();
    }
  });
});

test("EventBus refuses an event over store.max_msg_size before sending it; publishMany reports per event", async () => {
  await withStore({ max_msg_size: 512 }, async ({ nc, messages }) => {
    const bus = new EventBus(nc, { maxMsgSize: 512 });
    try {
      const results = await bus.publishMany([
        { type: "Note", data: { text: "small" } },
        { type: "Note", data: { text: "y".repeat(600) } },
        { type: "Note", data: { text: "also small" } },
      ]);
      assert.equal(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
      assert.instance((results[1] as PromiseRejectedResult).reason, EventTooLargeError);
      assert.is(await messages(), 2);
    } finally {
      await bus.close();
    }
  });
});

test.run();
