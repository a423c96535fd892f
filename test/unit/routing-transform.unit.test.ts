import { test } from "uvu";
import * as assert from "uvu/assert";
import { compileTransform } from "../../runtime/config/routes/transform.ts";

const data = () => ({ user: { id: "u1", email: "a@b.c", address: { city: "Paris", zip: "75001" } }, plan: "pro", secret: "x" });

test("pick keeps only the listed paths, nesting preserved", () => {
  assert.equal(compileTransform({ pick: ["user.id", "plan", "missing"] })(data()), { user: { id: "u1" }, plan: "pro" });
});

test("drop removes paths, including nested ones", () => {
  assert.equal(compileTransform({ drop: ["secret", "user.address.zip"] })(data()), {
    user: { id: "u1", email: "a@b.c", address: { city: "Paris" } },
    plan: "pro",
  });
});

test("rename moves values between dotted paths (swaps work)", () => {
  assert.equal(compileTransform({ rename: { "user.email": "contact.email", plan: "tier" } })(data()), {
    user: { id: "u1", address: { city: "Paris", zip: "75001" } },
    contact: { email: "a@b.c" },
    secret: "x",
    tier: "pro",
  });
  assert.equal(compileTransform({ rename: { a: "b", b: "a" } })({ a: 1, b: 2 }), { a: 2, b: 1 });
});

test("set writes constants at dotted paths, creating objects", () => {
  assert.equal(compileTransform({ set: { "meta.routedBy": "jetbus", plan: "free", obj: { k: [1] } } })({ plan: "pro" }), {
    plan: "free",
    meta: { routedBy: "jetbus" },
    obj: { k: [1] },
  });
});

test("order is pick, drop, rename, set; the input is never mutated", () => {
  const input = data();
  const before = JSON.stringify(input);
  const out = compileTransform({ pick: ["user", "plan"], drop: ["user.address"], rename: { "user.id": "userId" }, set: { v: 2 } })(input);
  assert.equal(out, { user: { email: "a@b.c" }, plan: "pro", userId: "u1", v: 2 });
  assert.is(JSON.stringify(input), before);
});

test("non-object data: pick gives {}, set starts from {}, drop/rename leave it", () => {
  assert.equal(compileTransform({ pick: ["a"] })("text"), {});
  assert.equal(compileTransform({ set: { a: 1 } })(null), { a: 1 });
  assert.is(compileTransform({ drop: ["a"] })("text"), "text");
});

test.run();
