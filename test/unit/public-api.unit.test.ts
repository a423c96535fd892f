// The package's public files: what `import "jetbus"` hands out, and what importing it does (nothing
// global). The types are covered by the API report (api/*.api.md, `npm run api-report` in npm
// test); test/e2e/package.e2e.test.ts type-checks a user's file against the installed tarball.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { REPO_ROOT } from "../helpers/cli.ts";

test('"jetbus" hands out five functions: createJetbus and the definers of actors, aggregates, projections and upcasters (the issue allows 30 runtime values)', async () => {
  const api = await import("../../runtime/mod.ts");
  const values = Object.keys(api).sort();
  assert.equal(values, ["createJetbus", "defineActor", "defineAggregate", "defineProjection", "defineUpcasters"]);
  assert.ok(values.length <= 30);
});

test('"jetbus/errors" hands out every error class with its code, and ErrorCode', async () => {
  const errors = (await import("../../runtime/errors.ts")) as Record<string, unknown>;
  const { JetbusError, ErrorCode } = errors as typeof import("../../runtime/errors.ts");
  const classes = Object.entries(errors).filter(([, v]) => typeof v === "function");
  assert.ok(classes.length >= 25, `${classes.length} classes`);
  for (const [name, cls] of classes)
    assert.ok(cls === JetbusError || (cls as { prototype: unknown }).prototype instanceof JetbusError, name);
  assert.is(typeof ErrorCode.HandlerInvalid, "string");
});

/** Runs `body` (an ES module) in a fresh node with tsx, from the repository root, and returns what it printed as JSON. */
function inFreshProcess(body: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", body], { cwd: REPO_ROOT, encoding: "utf8" });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const PROBE = `
import { createRequire } from "node:module";
const globals = new Set(Object.getOwnPropertyNames(globalThis));
const reflect = new Set(Object.getOwnPropertyNames(Reflect));
await import(process.env.ENTRY);
const { registeredHandlers } = await import("./runtime/actor/registry.ts");
const loaded = Object.keys(createRequire(process.cwd() + "/").cache);
console.log(JSON.stringify({
  newGlobals: Object.getOwnPropertyNames(globalThis).filter((n) => !globals.has(n)),
  newReflect: Object.getOwnPropertyNames(Reflect).filter((n) => !reflect.has(n)),
  handlers: registeredHandlers(),
  tsyringe: loaded.some((f) => f.includes("/node_modules/tsyringe/")),
}));
`;

test('importing "jetbus" changes no global: no Reflect.getMetadata, no tsyringe, no handler registered', () => {
  process.env.ENTRY = "./runtime/mod.ts";
  const found = inFreshProcess(PROBE);
  assert.equal(found, { newGlobals: [], newReflect: [], handlers: [], tsyringe: false });
});

test('"jetbus/di", which class handlers opt into, is what loads the Reflect polyfill and tsyringe (the probe above can see it)', () => {
  process.env.ENTRY = "./runtime/di.ts";
  const found = inFreshProcess(PROBE);
  assert.ok((found.newReflect as string[]).includes("getMetadata"), JSON.stringify(found));
  assert.is(found.tsyringe, true);
  assert.equal(found.handlers, []);
});

test.run();
