import { test } from "uvu";
import * as assert from "uvu/assert";
import { configFrom } from "../../runtime/config/load.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import { createEvent } from "../../runtime/events/codec.ts";
import { compileRuleSet } from "../../runtime/routing/plan.ts";
import { dryRun, eventForDryRun } from "../../runtime/routing/dry-run.ts";
import { partitionOf } from "../../runtime/topology.ts";

const ev = (type: string, data: unknown, source = "svc") => createEvent({ type, data, source, correlationid: "corr-1" });

test("demo config: UserCreated fans out to three actors, UserUpdated/UserDeleted to two, others unrouted", () => {
  const rules = compileRuleSet(loadConfig("jetbus.config.json"), 7);
  assert.equal(
    rules.plan(ev("UserCreated", {})).map((c) => c.actor),
    ["user-handler-1", "user-handler-2", "email-handler"],
  );
  assert.equal(
    rules.plan(ev("UserUpdated", {})).map((c) => c.actor),
    ["user-handler-1", "email-handler"],
  );
  assert.equal(
    rules.plan(ev("UserDeleted", {})).map((c) => c.actor),
    ["user-handler-1", "email-handler"],
  );
  assert.equal(rules.plan(ev("OrderPlaced", {})), []);
  assert.is(rules.plan(ev("UserCreated", {}))[0]!.subject, "actors.user-handler-1.0");
  assert.is(rules.revision, 7);
});

const config = (mode: "all-matches" | "first-match") =>
  configFrom({
    actors: [{ name: "a" }, { name: "b" }, { name: "c", ordered: { key: "data.user", partitions: 4 } }],
    routes: {
      mode,
      rules: [
        {
          name: "vip",
          match: { type: "User*", data: { eq: { vip: true } } },
          to: ["a", "c"],
          transform: { pick: ["user"], set: { tier: "vip" } },
        },
        { name: "users", match: { type: "User.>" }, to: ["b"] },
        { name: "everything-users", match: { type: "User*" }, to: ["a", "b"] },
        { name: "from-billing", match: { source: "billing" }, to: ["b"] },
      ],
    },
  });

test("all-matches: union of targets, each actor once, first matching rule shapes its copy", () => {
  const rules = compileRuleSet(config("all-matches"), 1);
  const copies = rules.plan(ev("UserCreated", { user: "u1", vip: true, secret: 1 }));
  assert.equal(
    copies.map((c) => [c.actor, c.rule]),
    [
      ["a", "vip"],
      ["c", "vip"],
      ["b", "everything-users"],
    ],
  );
  assert.equal(copies[0]!.event.data, { user: "u1", tier: "vip" });
  assert.equal(copies[2]!.event.data, { user: "u1", vip: true, secret: 1 });
  // id, type, correlation kept on transformed copies
  const original = ev("UserCreated", { user: "u1", vip: true });
  const t = rules.plan(original)[0]!.event;
  assert.equal([t.id, t.type, t.correlationid, t.source], [original.id, original.type, original.correlationid, original.source]);
});

test("first-match: only the first matching rule's targets", () => {
  const rules = compileRuleSet(config("first-match"), 1);
  assert.equal(
    rules.plan(ev("UserCreated", { vip: true })).map((c) => c.actor),
    ["a", "c"],
  );
  assert.equal(
    rules.plan(ev("User.Created", {})).map((c) => [c.actor, c.rule]),
    [["b", "users"]],
  );
  assert.equal(
    rules.plan(ev("Invoice", {}, "billing")).map((c) => c.rule),
    ["from-billing"],
  );
  assert.equal(rules.plan(ev("Invoice", {}, "shop")), []);
});

test("ordered actors get the partition of their key; unordered partition 0", () => {
  const rules = compileRuleSet(config("all-matches"), 1);
  const copies = rules.plan(ev("UserCreated", { user: "u42", vip: true }));
  assert.is(copies.find((c) => c.actor === "c")!.subject, `actors.c.${partitionOf("u42", 4)}`);
  assert.ok(copies.find((c) => c.actor === "c")!.ordered);
  assert.is(copies.find((c) => c.actor === "a")!.subject, "actors.a.0");
  // one RuleSet, many events: an ordered actor's partition follows each event's key, an unordered one stays 0
  for (const user of ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"]) {
    const next = rules.plan(ev("UserCreated", { user, vip: true }));
    assert.is(next.find((c) => c.actor === "c")!.subject, `actors.c.${partitionOf(user, 4)}`, user);
    assert.is(next.find((c) => c.actor === "a")!.subject, "actors.a.0");
    assert.not.ok(next.find((c) => c.actor === "a")!.ordered);
  }
});

test("dry run accepts the short form and a structured CloudEvent", () => {
  const c = loadConfig("jetbus.config.json");
  const short = dryRun(c, eventForDryRun({ type: "UserUpdated", data: { id: 1 } }));
  assert.equal(
    short.copies.map((x) => x.actor),
    ["user-handler-1", "email-handler"],
  );
  const structured = eventForDryRun({ specversion: "1.0", id: "e1", type: "Nope", source: "s", data: {} });
  const r = dryRun(c, structured);
  assert.equal(r.copies, []);
  assert.is(r.unroutedSubject, "unrouted.Nope");
  assert.throws(() => eventForDryRun({ data: {} }), /type/);
});

test.run();
