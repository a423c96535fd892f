import { test } from "uvu";
import * as assert from "uvu/assert";
import { configFrom } from "../../runtime/config/mod.ts";
import { SchemaViolationError, UsageError } from "../../runtime/errors.ts";
import { EventSchemas, eventStreamConfig, indexStreamConfig, parseTimeArg } from "../../runtime/store/mod.ts";

const now = new Date("2024-05-01T12:00:00Z");

test("--since/--until accept ISO timestamps and durations meaning that long ago", () => {
  assert.is(parseTimeArg("2024-04-30T10:00:00Z", "--since", now).toISOString(), "2024-04-30T10:00:00.000Z");
  assert.is(parseTimeArg("10m", "--since", now).toISOString(), "2024-05-01T11:50:00.000Z");
  assert.is(parseTimeArg("2h ago", "--since", now).toISOString(), "2024-05-01T10:00:00.000Z");
  assert.is(parseTimeArg("7d", "--until", now).toISOString(), "2024-04-24T12:00:00.000Z");
  for (const bad of ["yesterday", "10 minutes", "", "2024-13-45T99:00:00Z"]) {
    assert.throws(() => parseTimeArg(bad, "--since", now), (e: unknown) => e instanceof UsageError && /--since/.test((e as Error).message), bad);
  }
});

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
