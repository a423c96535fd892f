import { test } from "uvu";
import * as assert from "uvu/assert";
import { validateConfig } from "../../runtime/config/validate.ts";
import { loadConfig } from "../../runtime/config/load.ts";

const actors = [{ name: "a" }, { name: "b" }];
const problemsOf = (routes: unknown) => validateConfig({ actors, routes }).problems;
const paths = (routes: unknown) => problemsOf(routes).map((p) => p.path);

test("the demo config (jetbus.config.json) is valid", () => {
  const c = loadConfig("jetbus.config.json");
  assert.is(c.routes.rules.length, 3);
  assert.equal(c.routes.rules[0]!.to, ["user-handler-1", "user-handler-2", "email-handler"]);
});

test("unknown target actors are reported with their path", () => {
  assert.equal(paths({ rules: [{ match: { type: "X" }, to: ["a", "nope"] }] }), ["routes.rules[0].to[1]"]);
});

test("a regex that does not compile is reported at its JSON path, nested inside all/any/not", () => {
  const p = problemsOf({
    rules: [{ to: ["a"] }, { to: ["b"] }, { to: ["a"] }, { match: { data: { regex: { email: "([a-z" } } }, to: ["a"] }],
  });
  assert.equal(
    p.map((x) => x.path),
    ["routes.rules[3].match.data.regex.email"],
  );
  assert.match(p[0]!.message, /regex does not compile/);
  assert.equal(paths({ rules: [{ match: { data: { all: [{ eq: { a: 1 } }, { not: { regex: { "x.y": "(" } } }] } }, to: ["a"] }] }), [
    "routes.rules[0].match.data.all[1].not.regex.x.y",
  ]);
});

test("invalid type and source patterns are reported", () => {
  assert.equal(paths({ rules: [{ match: { type: "User.>.X", source: "svc*x" }, to: ["a"] }] }), [
    "routes.rules[0].match.type",
    "routes.rules[0].match.source",
  ]);
});

test("bad dotted paths in filters and transforms are reported", () => {
  assert.equal(
    paths({ rules: [{ match: { data: { exists: ["a..b"] } }, to: ["a"], transform: { pick: ["ok", "x."], set: { "": 1 } } }] }),
    ["routes.rules[0].match.data.exists[0]", "routes.rules[0].transform.pick[1]", "routes.rules[0].transform.set."],
  );
});

test("first-match: a rule shadowed by an earlier catch-all or covering pattern is reported", () => {
  const p = problemsOf({
    mode: "first-match",
    rules: [
      { name: "users", match: { type: "User*" }, to: ["a"] },
      { name: "created", match: { type: "UserCreated", data: { eq: { vip: true } } }, to: ["b"] },
      { name: "orders", match: { type: "Order.>", data: { eq: { x: 1 } } }, to: ["b"] },
      { name: "orders-again", match: { type: "Order.*", data: { eq: { x: 1 } } }, to: ["a"] },
      { name: "all", to: ["a"] },
      { name: "never", match: { source: "svc" }, to: ["b"] },
    ],
  });
  assert.equal(
    p.map((x) => x.path),
    ["routes.rules[1]", "routes.rules[3]", "routes.rules[5]"],
  );
  assert.match(p[0]!.message, /earlier rule users \(routes\.rules\[0\]\)/);
  assert.match(p[2]!.message, /earlier rule all/);
});

test("first-match: narrower rules before broader ones are fine; all-matches never reports shadowing", () => {
  const rules = [
    { match: { type: "UserCreated", data: { eq: { vip: true } } }, to: ["b"] },
    { match: { type: "User*" }, to: ["a"] },
    { match: { type: "UserCreated", source: "svc" }, to: ["b"] },
  ];
  assert.equal(paths({ mode: "first-match", rules }), ["routes.rules[2]"]);
  assert.equal(paths({ mode: "all-matches", rules }), []);
  assert.equal(
    paths({
      mode: "first-match",
      rules: [
        { match: { type: "A", data: { eq: { x: 1 } } }, to: ["a"] },
        { match: { type: "A", data: { eq: { x: 2 } } }, to: ["b"] },
      ],
    }),
    [],
  );
});

test("duplicate rule names are reported", () => {
  assert.equal(
    paths({
      rules: [
        { name: "r", to: ["a"] },
        { name: "r", match: { type: "X" }, to: ["b"] },
      ],
    }),
    ["routes.rules[1].name"],
  );
});

test("schema: unknown keys and two operators in one filter are refused with paths", () => {
  const p = problemsOf({ rules: [{ match: { type: "X", data: { eq: { a: 1 }, ne: { b: 1 } } }, to: ["a"], extra: 1 }] });
  const ps = p.map((x) => x.path);
  assert.ok(ps.includes("routes.rules[0].extra"), JSON.stringify(p));
  assert.ok(ps.includes("routes.rules[0].match.data"), JSON.stringify(p));
});

test.run();
