import { test } from "uvu";
import * as assert from "uvu/assert";
import { configFrom } from "../../runtime/config/load.ts";
import { SchemaViolationError } from "../../runtime/errors.ts";
import { EventSchemas, eventStreamConfig, indexStreamConfig } from "../../runtime/store/mod.ts";

test("event stream config follows store settings; the duplicate window is capped at max_age; the index expires with the events", () => {
  const s = configFrom({ store: { stream: "ORDERS", max_age: "1s", duplicate_window: "2m", max_msgs: 10, storage: "memory" } }).store;
  const ev = eventStreamConfig(s);
  assert.is(ev.name, "ORDERS");
  assert.equal(ev.subjects, ["events.>"]);
  assert.is(ev.max_age, 1e9);
  assert.is(ev.duplicate_window, 1e9);
  assert.is(ev.allow_direct, true);
  const ix = indexStreamConfig(s);
  assert.is(ix.name, "JETBUS_INDEX_ORDERS");
  assert.equal(ix.subjects, ["index.ORDERS.>"]);
  assert.is(ix.max_age, 1e9);
  assert.is(ix.max_msgs, 30, "up to three entries per event");
  assert.is(ix.max_msgs_per_subject, 1, "every index subject holds one message");
  const forever = eventStreamConfig(configFrom({}).store);
  assert.is(forever.max_age, 0);
  assert.is(forever.duplicate_window, 120e9);
  assert.is(indexStreamConfig(configFrom({}).store).name, "JETBUS_INDEX");
});

test("event schemas: the seed's user events need user_id; types without a schema pass; problems carry paths", () => {
  const schemas = new EventSchemas();
  assert.ok(schemas.has("UserCreated") && schemas.has("UserUpdated") && schemas.has("UserDeleted"));
  assert.not.ok(schemas.has("NoSuchType"));
  schemas.check("UserCreated", { user_id: "u1", username: "john", email: "john@example.com" });
  schemas.check("NoSuchType", 42);
  try {
    schemas.check("UserUpdated", { email: "nope", username: "" });
    assert.unreachable("expected a SchemaViolationError");
  } catch (err) {
    assert.instance(err, SchemaViolationError);
    const e = err as SchemaViolationError;
    assert.is(e.eventType, "UserUpdated");
    assert.equal(e.problems.map((p) => p.path).sort(), ["email", "user_id", "username"]);
  }
});

test.run();
