import { test } from "uvu";
import * as assert from "uvu/assert";
import { configFrom } from "../../runtime/config/load.ts";
import { validateConfig } from "../../runtime/config/validate.ts";
import { createEvent } from "../../runtime/events/codec.ts";
import { notificationProblems, notificationTypesOf } from "../../runtime/config/notifications.ts";
import { notificationPlanOf, notificationSubjectsOf, routedEvent } from "../../runtime/notify/routes.ts";

const actors = [{ name: "a" }, { name: "b" }, { name: "c" }];

test("notificationTypesOf: exact types and whole-token wildcards", () => {
  const t = notificationTypesOf(configFrom({ notifications: { types: ["PriceTicked", "Metrics.*", "Dash.>"] } }, "(t)"));
  assert.ok(t.includes("PriceTicked"));
  assert.ok(t.includes("Metrics.cpu"));
  assert.not.ok(t.includes("Metrics.cpu.user"), "* is one token");
  assert.ok(t.includes("Dash.a.b"));
  assert.not.ok(t.includes("Dash"), "> needs a token");
  assert.not.ok(t.includes("PriceTickedToo"));
  assert.not.ok(notificationTypesOf(configFrom({}, "(t)")).includes("PriceTicked"), "none declared: nothing is a notification");
});

test("config validation names a notification type that is a prefix glob or not a type, with its JSON path", () => {
  const { problems } = validateConfig({ notifications: { types: ["Metric*", "Bad Type", "ok.*", "a..b"] } });
  assert.equal(
    problems.map((p) => p.path),
    ["notifications.types[0]", "notifications.types[1]", "notifications.types[3]"],
  );
  assert.match(problems[0]!.message, /prefix glob/);
  assert.match(problems[1]!.message, /not an event type/);
  assert.equal(notificationProblems({ notifications: { types: [">", "*", "A.>"], max_pending: 1 } }), []);
});

test("config validation: a projection name used twice", () => {
  const { problems } = validateConfig({
    projections: [
      { name: "balances", module: "./a.ts" },
      { name: "balances", module: "./b.ts" },
    ],
  });
  assert.equal(problems, [{ path: "projections[1].name", message: 'duplicate projection name "balances" (also projections[0])' }]);
});

test("notificationSubjectsOf: the type patterns of the actor's rules, covered ones left out; no type or a prefix glob listens on notify.>", () => {
  const config = configFrom(
    {
      actors,
      routes: {
        rules: [
          { match: { type: "Price.*" }, to: ["a"] },
          { match: { type: "Price.EUR" }, to: ["a", "b"] },
          { match: { type: "Alert" }, to: ["a"] },
          { match: { type: "User*" }, to: ["c"] },
          { match: { source: "x" }, to: ["b"] },
        ],
      },
    },
    "(t)",
  );
  assert.equal(notificationSubjectsOf("a", config), ["notify.Price.*", "notify.Alert"]);
  assert.equal(notificationSubjectsOf("b", config), ["notify.>"]);
  assert.equal(notificationSubjectsOf("c", config), ["notify.>"]);
  assert.equal(notificationSubjectsOf("nobody", config), []);
});

test("notificationPlanOf: all-matches takes the first matching rule naming the actor (its transform and name)", () => {
  const config = configFrom(
    {
      actors,
      routes: {
        rules: [
          { name: "cheap", match: { type: "Tick", data: { lt: { price: 10 } } }, to: ["a"], transform: { set: { cheap: true } } },
          { match: { type: "Tick" }, to: ["a", "b"] },
        ],
      },
    },
    "(t)",
  );
  const plan = notificationPlanOf("a", config);
  const cheapEvent = createEvent({ type: "Tick", data: { price: 1 } });
  const cheap = plan(cheapEvent)!;
  assert.is(cheap.name, "cheap");
  assert.equal(routedEvent(cheap, cheapEvent).data, { price: 1, cheap: true });
  assert.equal(cheapEvent.data, { price: 1 }, "the event itself is left as it was");
  const dearEvent = createEvent({ type: "Tick", data: { price: 50 } });
  const dear = plan(dearEvent)!;
  assert.is(dear.name, "rules[1]", "unnamed rules are named by their index in the config");
  assert.is(routedEvent(dear, dearEvent), dearEvent, "no transform: the same event");
  assert.is(plan(createEvent({ type: "Other", data: {} })), undefined);
});

test("notificationPlanOf: in first-match mode an earlier rule for another actor takes the event away", () => {
  const config = configFrom(
    {
      actors,
      routes: {
        mode: "first-match",
        rules: [
          { match: { type: "Tick", data: { eq: { vip: true } } }, to: ["b"] },
          { match: { type: "Tick" }, to: ["a"] },
        ],
      },
    },
    "(t)",
  );
  const plan = notificationPlanOf("a", config);
  assert.is(plan(createEvent({ type: "Tick", data: { vip: true } })), undefined, "the vip rule matched first, for b");
  assert.ok(plan(createEvent({ type: "Tick", data: { vip: false } })));
});

test.run();
