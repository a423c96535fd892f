// The config validator the package ships (ajv standalone code written by `npm run build`) against
// the one a checkout compiles from the schemas: on any document both give the same verdict, the
// same errors and the same document after defaults and duration conversion.
// FC_SEED=N replays a run; FC_RUNS=N runs more cases (default 300).
import { test } from "uvu";
import * as assert from "uvu/assert";
import fc from "fast-check";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ValidateFunction } from "ajv/dist/2020.js";
import { configValidator, configValidatorModule, validatorFromModule } from "../../runtime/config/config-validator.ts";
import { configDoc } from "../fixtures/config-arbitraries.ts";

const params = { numRuns: Number(process.env.FC_RUNS ?? 300), ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) };

// inside node_modules, as in an installed package: the generated code requires ajv's small runtime helpers
const dir = mkdtempSync(join(fileURLToPath(new URL("../../node_modules/", import.meta.url)), ".jetbus-validator-"));
const file = join(dir, "config-validator.generated.cjs");
writeFileSync(file, configValidatorModule());
const generated = validatorFromModule(file);
const compiled = configValidator();

/** What a validator made of a copy of `doc`: verdict, errors (without the schema objects) and the document it left. */
function outcome(validate: ValidateFunction, doc: unknown) {
  const copy = structuredClone(doc);
  const valid = validate(copy);
  const errors = (validate.errors ?? []).map((e) => ({ ...e, schema: undefined, parentSchema: undefined, data: undefined }));
  return { valid, errors: valid ? [] : errors, doc: copy };
}

test("the generated module is a standalone validator, not the compiled one", () => {
  assert.is.not(generated, compiled);
  const text = readFileSync(file, "utf8");
  assert.not.match(text, /require\("ajv"\)|require\("ajv\/dist\/2020/, "loads no ajv core");
});

test("durations and defaults come out the same", () => {
  const doc = { store: { max_age: "7d", duplicate_window: "2m" }, actors: [{ name: "a", retry: { backoff: ["30s", 1000] } }] };
  const g = outcome(generated, doc);
  assert.ok(g.valid, JSON.stringify(g.errors));
  assert.is((g.doc as { store: { max_age: unknown } }).store.max_age, 604_800_000);
  assert.equal((g.doc as { actors: { retry: { backoff: unknown } }[] }).actors[0]!.retry.backoff, [30_000, 1000]);
  assert.equal(g, outcome(compiled, doc));
});

test("a bad document gets the same errors, with the schema that says what is allowed", () => {
  const doc = { store: { stram: "X", max_age: "forever" }, actors: [{ name: "Bad Name" }] };
  const g = outcome(generated, doc);
  assert.not.ok(g.valid);
  assert.equal(g, outcome(compiled, doc));
  const unknownKey = generated.errors?.find((e) => e.keyword === "additionalProperties");
  assert.ok((unknownKey?.parentSchema as { properties?: object } | undefined)?.properties, "verbose errors carry their parent schema");
});

test("any config-shaped document: the same outcome from both", () => {
  fc.assert(
    fc.property(configDoc, (doc) => {
      assert.equal(outcome(generated, doc), outcome(compiled, doc));
    }),
    params,
  );
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
