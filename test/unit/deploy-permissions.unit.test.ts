import { test } from "uvu";
import * as assert from "uvu/assert";
import { actorDurables, inboxPrefixFor, passwordVarFor, renderAccountsConf, roleUsers, Users } from "../../runtime/cluster/permissions.ts";

const users = roleUsers([{ name: "a1" }, { name: "ord", ordered: { partitions: 2 } }]);
const of = (name: string) => users.find((u) => u.user === name)!;

test("one user per role and per actor; only the admin is unrestricted", () => {
  assert.equal(
    users.map((u) => u.user),
    [Users.admin, Users.publisher, Users.router, "a1", "ord"],
  );
  assert.is(of(Users.admin).publish, undefined);
  for (const u of users.slice(1)) assert.ok(u.publish && u.subscribe, `${u.user} has allow lists`);
});

test("the publisher may publish events and notifications (plus two read-only API calls) and subscribe only to its own replies", () => {
  const p = of(Users.publisher);
  assert.equal(
    p.publish!.filter((s) => !s.startsWith("$JS.API.INFO") && !s.startsWith("$JS.API.STREAM.INFO.")),
    ["events.>", "notify.>"],
  );
  assert.equal(p.subscribe, ["_INBOX.jetbus-publisher.>"]);
});

test("an actor pulls and acks only its own durables; an ordered actor's partitions are listed one by one", () => {
  assert.equal(actorDurables({ name: "ord", ordered: { partitions: 2 } }), ["ord-p0", "ord-p1"]);
  // besides its durables, an actor pulls only the ordered consumers over its own state bucket (tested below)
  const next = (u: string) =>
    of(u).publish!.filter((s) => (s.includes("MSG.NEXT") && !s.includes(`.KV_jetbus-state-${u}.`)) || s.startsWith("$JS.ACK"));
  assert.equal(next("a1"), ["$JS.API.CONSUMER.MSG.NEXT.JETBUS_INBOX.a1", "$JS.ACK.JETBUS_INBOX.a1.>"]);
  assert.equal(next("ord"), [
    "$JS.API.CONSUMER.MSG.NEXT.JETBUS_INBOX.ord-p0",
    "$JS.ACK.JETBUS_INBOX.ord-p0.>",
    "$JS.API.CONSUMER.MSG.NEXT.JETBUS_INBOX.ord-p1",
    "$JS.ACK.JETBUS_INBOX.ord-p1.>",
  ]);
  const a1 = of("a1").publish!;
  assert.ok(a1.includes("dlq.a1") && !a1.some((s) => s.startsWith("dlq.") && s !== "dlq.a1"));
  assert.ok(a1.includes("$KV.jetbus-processed-a1.>") && !a1.some((s) => s.includes("processed-ord")));
  assert.ok(!a1.some((s) => s.startsWith("actors.")), "an actor never writes into inboxes");
  assert.ok(
    !a1.some(
      (s) =>
        s.includes("STREAM.CREATE.JETBUS_INBOX") ||
        s.includes("STREAM.DELETE") ||
        (s.includes("CONSUMER.DELETE") && !s.includes(".KV_jetbus-state-a1.")),
    ),
  );
});

test("an actor subscribes to notifications only in its own queue group, and reads the live config without writing it", () => {
  const a1 = of("a1");
  assert.equal(
    a1.subscribe!.filter((s) => s.startsWith("notify.")),
    ["notify.> jetbus-notify-a1"],
  );
  assert.ok(a1.publish!.includes("$JS.API.CONSUMER.CREATE.KV_jetbus-config.>"), "watches jetbus-config");
  assert.not.ok(a1.publish!.includes("$KV.jetbus-config.>"), "never puts into it");
});

test("every actor may use its own state bucket and schedule only its own timers", () => {
  const a1 = of("a1").publish!;
  for (const s of [
    "$KV.jetbus-state-a1.>",
    "$JS.API.STREAM.UPDATE.KV_jetbus-state-a1",
    "$JS.API.CONSUMER.MSG.NEXT.KV_jetbus-state-a1.>",
    "$JS.API.STREAM.INFO.JETBUS_TIMERS",
    "timers.at.a1.>",
  ])
    assert.ok(a1.includes(s), s);
  assert.ok(!a1.some((s) => s.includes("jetbus-state-ord") || s.startsWith("timers.at.ord") || s.startsWith("timers.fire")));
  assert.ok(!a1.some((s) => s.includes("STREAM.UPDATE.") && !s.endsWith("KV_jetbus-state-a1")), "no other stream may be reconfigured");
});

test("the router reads the store through its durables and writes inboxes, unrouted and quarantine; it never pulls an inbox", () => {
  const r = of(Users.router).publish!;
  for (const s of [
    "actors.>",
    "unrouted.>",
    "quarantine.>",
    "$JS.API.CONSUMER.MSG.NEXT.EVENTS.jetbus-router",
    "$JS.ACK.EVENTS.jetbus-router.>",
    "$KV.jetbus-config.>",
  ])
    assert.ok(r.includes(s), s);
  assert.ok(!r.some((s) => s.includes("MSG.NEXT.JETBUS_INBOX")));
});

test("passwords are environment references in the rendered config, never values", () => {
  const text = renderAccountsConf(users);
  assert.match(text, /password: \$JETBUS_PASS_ADMIN\n/);
  assert.is(passwordVarFor("user-handler-1"), "JETBUS_PASS_USER_HANDLER_1");
  assert.is(inboxPrefixFor("a1"), "_INBOX.a1");
  assert.not.match(text, /password: "/);
});

test("a direct actor pulls its own durable on the store; the router may create and update it, not pull it", () => {
  const withDirect = roleUsers([{ name: "d", delivery: "direct" }]);
  const get = (name: string) => withDirect.find((u) => u.user === name)!.publish!;
  assert.ok(get("d").includes("$JS.API.CONSUMER.MSG.NEXT.EVENTS.jetbus-direct-d"));
  assert.ok(get("d").includes("$JS.ACK.EVENTS.jetbus-direct-d.>"));
  assert.ok(get(Users.router).includes("$JS.API.CONSUMER.CREATE.EVENTS.jetbus-direct-d"));
  assert.not.ok(get(Users.router).some((s) => s.includes("NEXT.EVENTS.jetbus-direct-d")));
  assert.not.ok(
    of("a1").publish!.some((s) => s.includes("jetbus-direct")),
    "a copy actor has no store durable",
  );
});

test.run();
