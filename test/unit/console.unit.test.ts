import { test } from "uvu";
import * as assert from "uvu/assert";
import type { IncomingMessage } from "node:http";
import { configFrom } from "../../runtime/config/load.ts";
import { buildFlowGraph, type FlowNumbers } from "../../runtime/console/flows.ts";
import { RateTracker, Series } from "../../runtime/console/rates.ts";
import { loadAssets, pageWith } from "../../runtime/console/assets.ts";
import { checkAdmin, consoleToken } from "../../runtime/console/auth.ts";
import { checkConfigText } from "../../runtime/console/api-config.ts";
import { isLoopback } from "../../runtime/console/http-util.ts";
import { consoleOn } from "../../runtime/app/console.ts";
import type { Runtime } from "../../runtime/app/bootstrap.ts";

const config = configFrom(
  {
    actors: [{ name: "billing" }, { name: "audit" }, { name: "mailer" }],
    routes: {
      rules: [
        { name: "orders", match: { type: "Order*" }, to: ["billing", "audit"] },
        { name: "big", match: { type: "OrderPlaced", data: { gte: { total: 100 } } }, to: ["audit"] },
        { match: { type: "User.>" }, to: ["mailer"] },
      ],
    },
  },
  "(unit)",
);

const numbers = (o: Partial<FlowNumbers> = {}): FlowNumbers => ({
  typeCounts: { OrderPlaced: 10, "User.created": 2, Stray: 1 },
  typeRate: (t) => (t === "OrderPlaced" ? 5 : 0),
  copyRate: (r, a) => (r === "orders" ? 5 : r === "big" && a === "audit" ? 1 : 0),
  copyTotal: () => 0,
  unroutedCounts: { Stray: 1 },
  unroutedRate: () => 0,
  quarantined: 3,
  quarantinedRate: 0,
  ...o,
});

test("flows: types -> rules -> actors from the config, unnamed rules by index, unrouted and quarantined nodes", () => {
  const g = buildFlowGraph(config, numbers());
  const ids = g.nodes.map((n) => n.id);
  for (const id of [
    "type:OrderPlaced",
    "type:User.created",
    "type:Stray",
    "rule:orders",
    "rule:big",
    "rule:rules[2]",
    "actor:billing",
    "actor:audit",
    "actor:mailer",
    "unrouted",
    "quarantine",
  ])
    assert.ok(ids.includes(id), id);
  const edge = (from: string, to: string) => g.edges.find((e) => e.from === from && e.to === to);
  assert.is(edge("type:OrderPlaced", "rule:orders")?.rate, 5, "an unfiltered rule gets the type's rate");
  assert.is(edge("type:OrderPlaced", "rule:big")?.rate, 1, "a data-filtered rule gets the rate of the copies it made");
  assert.is(edge("rule:orders", "actor:billing")?.rate, 5);
  assert.ok(edge("type:User.created", "rule:rules[2]"), "subject-style pattern matches");
  assert.not.ok(edge("type:User.created", "rule:orders"));
  assert.is(edge("type:Stray", "unrouted")?.count, 1);
  assert.not.ok(edge("type:OrderPlaced", "unrouted"), "a routed type has no unrouted edge");
  assert.is(g.nodes.find((n) => n.id === "quarantine")?.count, 3);
});

test("flows: a type named by a rule shows before its first event; one no rule matches flows to unrouted", () => {
  const g = buildFlowGraph(config, numbers({ typeCounts: { Lonely: 1 }, unroutedCounts: {} }));
  assert.ok(
    g.nodes.some((n) => n.id === "type:OrderPlaced"),
    "exact rule type listed without events",
  );
  assert.ok(g.edges.some((e) => e.from === "type:Lonely" && e.to === "unrouted"));
});

test("rates: per second from cumulative counts, new keys count from zero, drops and gaps are not double counted", () => {
  const r = new RateTracker();
  const all = () => true;
  r.sample({ at: 0, values: new Map([["a", 100]]) });
  assert.is(r.rate(all), 0, "the first reading is the baseline");
  assert.is(r.windowMs, undefined, "no rate is known before the second reading");
  assert.is(r.firstAt, 0);
  r.sample({
    at: 2000,
    values: new Map([
      ["a", 110],
      ["b", 4],
    ]),
  });
  assert.is(
    r.rate((k) => k === "a"),
    5,
  );
  assert.is(
    r.rate((k) => k === "b"),
    2,
    "a replica that appeared counts from zero",
  );
  r.sample({ at: 4000, values: new Map([["a", 110]]) }); // b missed one reading
  r.sample({
    at: 6000,
    values: new Map([
      ["a", 90],
      ["b", 6],
    ]),
  });
  assert.is(
    r.rate((k) => k === "a"),
    0,
    "a counter that went down is no change",
  );
  assert.is(
    r.rate((k) => k === "b"),
    1,
    "b compared with its last value, not counted again from zero",
  );
  assert.is(
    r.total((k) => k === "b"),
    6,
  );
  assert.is(
    r.total((k) => k === "a"),
    10,
  );
  assert.is(r.windowMs, 2000, "rates are over the time between the last two readings");
  const s = new Series(3);
  [1, 2, 3, 4].forEach((v) => s.push(v));
  assert.equal(s.list(), [2, 3, 4]);
});

test("the page carries its first snapshot; no value in it can end the script element or be read as a replacement pattern", () => {
  const assets = loadAssets();
  assert.is(pageWith(assets, undefined).toString(), assets.get("/index.html")!.body.toString(), "no reading: the page as it is");
  const snapshot = { flows: { nodes: [{ id: "type:</script><script>alert(1)</script>", label: "$& $' <!--" }] } };
  const page = pageWith(assets, snapshot).toString();
  assert.is(page.split("</script>").length, 3, "the app's script element and the snapshot's: none from the data");
  const inner = /<script id="first-snapshot" type="application\/json">(.*?)<\/script>/s.exec(page)![1]!;
  assert.equal(JSON.parse(inner), snapshot, "the data reads back as it was");
});

const req = (authorization?: string) => ({ headers: authorization ? { authorization } : {} }) as IncomingMessage;

test("admin token: none configured is read-only (403), missing header 401, wrong 403, right ok", () => {
  assert.equal(checkAdmin(req("Bearer x"), undefined).ok, false);
  assert.is((checkAdmin(req(), undefined) as { status: number }).status, 403);
  assert.is((checkAdmin(req(), "secret-secret-secret") as { status: number }).status, 401);
  assert.is((checkAdmin(req("Bearer nope"), "secret-secret-secret") as { status: number }).status, 403);
  assert.ok(checkAdmin(req("Bearer secret-secret-secret"), "secret-secret-secret").ok);
  assert.is(consoleToken({ token: "from-config-000000" }, { JETBUS_CONSOLE_TOKEN: "from-env" }), "from-config-000000");
  assert.is(consoleToken({}, { JETBUS_CONSOLE_TOKEN: "from-env" }), "from-env");
  assert.is(consoleToken(undefined, {}), undefined);
});

test("config edits: JSON syntax errors with line and column, schema and semantic problems with JSON paths", () => {
  assert.match(checkConfigText('{\n  "actors": [,]\n}').problems[0]!.path, /^line \d+, column \d+$/);
  const bad = checkConfigText(JSON.stringify({ actors: [{ name: "a", retry: { max_attempts: 0 } }] }));
  assert.equal(
    bad.problems.map((p) => p.path),
    ["actors[0].retry.max_attempts"],
  );
  const unknown = checkConfigText(JSON.stringify({ actors: [{ name: "a" }], routes: { rules: [{ match: {}, to: ["b"] }] } }));
  assert.equal(
    unknown.problems.map((p) => p.path),
    ["routes.rules[0].to[0]"],
  );
  assert.equal(checkConfigText(JSON.stringify({ actors: [{ name: "a" }] })).problems, []);
});

test("loopback addresses", () => {
  for (const a of ["127.0.0.1", "::1", "::ffff:127.0.0.1", "127.0.0.2"]) assert.ok(isLoopback(a), a);
  for (const a of ["10.0.0.1", "192.0.2.2", "::ffff:10.0.0.1", undefined]) assert.not.ok(isLoopback(a), String(a));
});

test("observability.console.enabled false: no console on the HTTP port", () => {
  const off = configFrom({ observability: { console: { enabled: false } } }, "(unit)");
  assert.is(consoleOn({ config: off } as Runtime), undefined);
  assert.is(configFrom({}, "(unit)").observability.console.enabled, true, "on by default");
  assert.is(configFrom({}, "(unit)").observability.console.public, false, "loopback only by default");
});

test.run();
