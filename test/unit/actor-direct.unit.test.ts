import { test } from "uvu";
import * as assert from "uvu/assert";
import { directFilterOf } from "../../runtime/config/direct.ts";
import { validateConfig } from "../../runtime/config/validate.ts";
import { subjectsOverlap } from "../../runtime/events/type-pattern.ts";

type Rule = { name?: string; match: Record<string, unknown>; to: string[]; transform?: unknown };

function doc(rules: Rule[], actor: Record<string, unknown> = {}, mode?: string) {
  return {
    actors: [{ name: "d", delivery: "direct", ...actor }, { name: "other" }],
    routes: { ...(mode ? { mode } : {}), rules },
  };
}

function problemsOf(d: unknown): string[] {
  return validateConfig(structuredClone(d)).problems.map((p) => `${p.path}: ${p.message}`);
}

test("direct filter: per rule naming the actor its plain and its entity subjects, covered ones dropped", () => {
  const { config } = validateConfig(
    doc([
      { match: { type: "OrderPlaced" }, to: ["d"] },
      { match: { type: "User.>" }, to: ["d", "other"] },
      { match: { type: "User.Created" }, to: ["d"] },
      { match: { type: "Ignored" }, to: ["other"] },
      { match: { type: "OrderPlaced" }, to: ["d"] },
    ]),
  );
  assert.ok(config);
  assert.equal(directFilterOf(0, config!).subjects, [
    "events.OrderPlaced",
    "events.@.*.*.OrderPlaced",
    "events.User.>",
    "events.@.*.*.User.>",
  ]);
});

test("direct filter: a rule without a type match is every event", () => {
  const { config } = validateConfig(doc([{ match: {}, to: ["d"] }]));
  assert.equal(directFilterOf(0, config!).subjects, ["events.>"]);
});

test("direct delivery: every rule naming the actor must decide on the type alone, each problem at its path", () => {
  const found = problemsOf(
    doc([
      { match: { type: "A", data: { eq: { x: 1 } } }, to: ["d"] },
      { match: { type: "B", source: "shop" }, to: ["d"] },
      { match: { type: "C" }, to: ["d"], transform: { pick: ["x"] } },
      { match: { type: "User*" }, to: ["d"] },
      { match: { type: "*.>" }, to: ["d"] },
    ]),
  );
  assert.equal(found.length, 5, found.join("\n"));
  assert.ok(found[0]!.startsWith("routes.rules[0].match.data: "));
  assert.ok(found[1]!.startsWith("routes.rules[1].match.source: "));
  assert.ok(found[2]!.startsWith("routes.rules[2].transform: "));
  assert.match(found[3]!, /^routes\.rules\[3\]\.match\.type: .*prefix glob/);
  // events.*.> would also take every aggregate's events (events.@.<aggregate>.<entity>.<type>)
  assert.match(found[4]!, /^routes\.rules\[4\]\.match\.type: .*entity subjects/);
});

test("direct delivery: refused for ordered actors, first-match mode, no rule, and overlapping types", () => {
  assert.match(
    problemsOf(doc([{ match: { type: "A" }, to: ["d"] }], { ordered: { key: "type" } })).join(),
    /actors\[0\]\.delivery: .*ordered/,
  );
  assert.match(problemsOf(doc([{ match: { type: "A" }, to: ["d"] }], {}, "first-match")).join(), /all-matches/);
  assert.match(problemsOf(doc([{ match: { type: "A" }, to: ["other"] }])).join(), /no rule routes to it/);
  assert.match(
    problemsOf(
      doc([
        { match: { type: "User.*" }, to: ["d"] },
        { match: { type: "*.Created" }, to: ["d"] },
      ]),
    ).join(),
    /events\.User\.\* and events\.\*\.Created overlap/,
  );
  assert.equal(problemsOf(doc([{ match: { type: "A" }, to: ["d"] }])), []);
});

test("subject filters overlap when one subject can match both", () => {
  assert.ok(subjectsOverlap("events.User.*", "events.*.Created"));
  assert.ok(subjectsOverlap("events.>", "events.A"));
  assert.not.ok(subjectsOverlap("events.A", "events.B"));
  assert.not.ok(subjectsOverlap("events.User.*", "events.User"));
});

test.run();
