import { test } from "uvu";
import * as assert from "uvu/assert";
import { compileFilter, parseRegex } from "../../runtime/config/routes/filter.ts";
import { compilePattern, parsePattern, patternCovers, PatternError } from "../../runtime/events/type-pattern.ts";
import type { DataFilter } from "../../runtime/config/types.ts";

const matches = (pattern: string, s: string) => compilePattern(parsePattern(pattern))(s);
const holds = (f: DataFilter, data: unknown) => compileFilter(f)(data);

test("type patterns: exact, prefix glob, subject-style * and >", () => {
  assert.ok(matches("UserCreated", "UserCreated"));
  assert.not.ok(matches("UserCreated", "UserCreatedV2"));
  assert.ok(matches("User*", "UserCreated"));
  assert.ok(matches("User*", "User"));
  assert.not.ok(matches("User*", "OrderCreated"));
  assert.ok(matches("User.>", "User.Created"));
  assert.ok(matches("User.>", "User.Created.V2"));
  assert.not.ok(matches("User.>", "User"));
  assert.ok(matches("User.*", "User.Created"));
  assert.not.ok(matches("User.*", "User.Created.V2"));
  assert.ok(matches("*.Created", "Order.Created"));
  assert.not.ok(matches("*.Created", "Order.Deleted"));
  assert.ok(matches("*", "anything.at.all"));
  assert.ok(matches(">", "x"));
});

test("invalid patterns are refused with a reason", () => {
  for (const bad of ["User.>.Created", "Us*er", "User..Created", "Us>er", "Us*er*", ".User"]) {
    assert.throws(
      () => parsePattern(bad),
      (e: unknown) => e instanceof PatternError,
      bad,
    );
  }
});

test("pattern coverage (used by the shadowing check)", () => {
  const covers = (o: string | undefined, i: string | undefined) =>
    patternCovers(o === undefined ? undefined : parsePattern(o), i === undefined ? undefined : parsePattern(i));
  assert.ok(covers(undefined, "UserCreated"));
  assert.ok(covers("User*", "UserCreated"));
  assert.ok(covers("User*", "UserC*"));
  assert.ok(covers("User*", "User.>"));
  assert.not.ok(covers("UserC*", "User*"));
  assert.ok(covers("User.>", "User.*"));
  assert.ok(covers("User.*", "User.Created"));
  assert.not.ok(covers("User.*", "User.>"));
  assert.not.ok(covers("UserCreated", "User*"));
  assert.not.ok(covers("UserCreated", undefined));
  assert.ok(covers("*", "Order*"));
});

test("eq / ne with dotted paths, objects compared structurally", () => {
  const data = { user: { address: { city: "Paris" }, tags: ["a"] }, n: 1 };
  assert.ok(holds({ eq: { "user.address.city": "Paris" } }, data));
  assert.not.ok(holds({ eq: { "user.address.city": "Rome" } }, data));
  assert.ok(holds({ eq: { "user.tags": ["a"] } }, data));
  assert.ok(holds({ eq: { "user.tags.0": "a", n: 1 } }, data));
  assert.not.ok(holds({ eq: { "user.tags.0": "a", n: 2 } }, data));
  assert.ok(holds({ ne: { n: 2 } }, data));
  assert.ok(holds({ ne: { missing: 2 } }, data));
  assert.not.ok(holds({ ne: { n: 1 } }, data));
  assert.not.ok(holds({ eq: { "n.deeper": 1 } }, data));
});

test("in, exists", () => {
  const data = { plan: "pro", zero: 0, nil: null, obj: { a: 1 } };
  assert.ok(holds({ in: { plan: ["free", "pro"] } }, data));
  assert.not.ok(holds({ in: { plan: ["free"] } }, data));
  assert.ok(holds({ in: { obj: [{ a: 1 }] } }, data));
  assert.not.ok(holds({ in: { missing: ["x"] } }, data));
  assert.ok(holds({ exists: ["plan", "zero", "nil", "obj.a"] }, data));
  assert.not.ok(holds({ exists: ["plan", "obj.b"] }, data));
});

test("numeric comparisons only hold for numbers", () => {
  const data = { amount: 100, text: "100" };
  assert.ok(holds({ gt: { amount: 99 } }, data));
  assert.not.ok(holds({ gt: { amount: 100 } }, data));
  assert.ok(holds({ gte: { amount: 100 } }, data));
  assert.ok(holds({ lt: { amount: 101 } }, data));
  assert.not.ok(holds({ lt: { amount: 100 } }, data));
  assert.ok(holds({ lte: { amount: 100 } }, data));
  assert.not.ok(holds({ gt: { text: 1 } }, data));
  assert.not.ok(holds({ lt: { missing: 1 } }, data));
});

test("prefix, suffix, regex (with /flags/ form)", () => {
  const data = { email: "John@Example.com", n: 5 };
  assert.ok(holds({ prefix: { email: "John" } }, data));
  assert.not.ok(holds({ prefix: { email: "john" } }, data));
  assert.ok(holds({ suffix: { email: ".com" } }, data));
  assert.ok(holds({ regex: { email: "^[A-Z].*@example\\.com$" } }, { email: "J@example.com" }));
  assert.ok(holds({ regex: { email: "/@example\\.COM$/i" } }, data));
  assert.not.ok(holds({ regex: { n: "5" } }, data));
  assert.ok(parseRegex("/a/i").flags.includes("i"));
});

test("all / any / not combine", () => {
  const f: DataFilter = {
    all: [{ eq: { country: "FR" } }, { any: [{ gt: { amount: 1000 } }, { eq: { vip: true } }] }, { not: { exists: ["blocked"] } }],
  };
  assert.ok(holds(f, { country: "FR", amount: 5000 }));
  assert.ok(holds(f, { country: "FR", amount: 1, vip: true }));
  assert.not.ok(holds(f, { country: "FR", amount: 1 }));
  assert.not.ok(holds(f, { country: "DE", amount: 5000 }));
  assert.not.ok(holds(f, { country: "FR", amount: 5000, blocked: false }));
});

test("data that is not an object never matches a path predicate", () => {
  assert.not.ok(holds({ eq: { a: 1 } }, null));
  assert.not.ok(holds({ exists: ["a"] }, "text"));
  assert.ok(holds({ not: { exists: ["a"] } }, 42));
});

test.run();
