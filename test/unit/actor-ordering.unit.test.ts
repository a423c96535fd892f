import { test } from "uvu";
import * as assert from "uvu/assert";
import { configFrom } from "../../runtime/config/load.ts";
import { createEvent } from "../../runtime/events/codec.ts";
import { consumersOf, inboxSubjectFor, orderingKeyOf, partitionFor } from "../../runtime/actor/ordering.ts";
import { actorConsumerConfigs } from "../../runtime/actor/inbox.ts";
import { partitionOf } from "../../runtime/topology.ts";

const event = createEvent({ type: "UserUpdated", data: { user: { id: "u-7" }, n: 3 }, source: "svc", correlationid: "corr-1" });

test("ordering keys: correlation id, source, type, subject and data paths", () => {
  assert.is(orderingKeyOf("correlationid", event), "corr-1");
  assert.is(orderingKeyOf("source", event), "svc");
  assert.is(orderingKeyOf("type", event), "UserUpdated");
  assert.is(orderingKeyOf("subject", event), "events.UserUpdated");
  assert.is(orderingKeyOf("data.user.id", event), "u-7");
  assert.is(orderingKeyOf("data.n", event), "3");
  assert.is(orderingKeyOf("data.missing.path", event), "");
});

test("inbox subjects: partition 0 for unordered actors, partitionOf(key) for ordered ones", () => {
  const [plain, ordered] = configFrom({
    actors: [{ name: "plain" }, { name: "ord", ordered: { key: "data.user.id", partitions: 8 } }],
  }).actors;
  assert.is(inboxSubjectFor(plain!, event), "actors.plain.0");
  assert.is(inboxSubjectFor(ordered!, event), `actors.ord.${partitionOf("u-7", 8)}`);
  assert.is(
    partitionFor(ordered!, createEvent({ type: "UserUpdated", data: { user: { id: "u-7" } } })),
    partitionFor(ordered!, event),
    "same key, same partition",
  );
});

test("consumers: one durable over actors.<a>.> unordered; one per partition with max_ack_pending 1 ordered", () => {
  const [plain, ordered] = configFrom({
    actors: [
      { name: "plain", max_ack_pending: 50, ack_wait: "2s" },
      { name: "ord", ordered: { partitions: 3 } },
    ],
  }).actors;
  assert.equal(consumersOf(plain!), [{ durable: "plain", filter: "actors.plain.>" }]);
  assert.equal(
    consumersOf(ordered!).map((c) => [c.durable, c.filter]),
    [
      ["ord-p0", "actors.ord.0"],
      ["ord-p1", "actors.ord.1"],
      ["ord-p2", "actors.ord.2"],
    ],
  );
  const [pc] = actorConsumerConfigs(plain!);
  assert.is(pc!.max_ack_pending, 50);
  assert.is(pc!.ack_wait, 2_000_000_000);
  assert.is(pc!.max_deliver, -1);
  assert.ok(actorConsumerConfigs(ordered!).every((c) => c.max_ack_pending === 1));
  assert.is(ordered!.ordered!.key, "correlationid", "key defaults to the correlation id");
});

test.run();
