import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SchemaFiles } from "../../runtime/config/schema-files.ts";
import { SchemaViolationError } from "../../runtime/errors.ts";
import { StateSchemas } from "../../runtime/actor/state/schema.ts";
import { EventSchemas } from "../../runtime/store/schemas.ts";

const schema = { type: "object", properties: { n: { type: "integer", maximum: 1 } }, required: ["n"], additionalProperties: false };

function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), "jetbus-schema-files-"));
  writeFileSync(join(dir, "Counted.json"), JSON.stringify(schema));
  return dir;
}

test("a folder's schema is compiled once; a missing one is remembered as missing", () => {
  const dir = folder();
  const files = new SchemaFiles(dir);
  const v = files.validatorFor("Counted");
  assert.ok(v);
  assert.is(files.validatorFor("Counted"), v, "the same compiled function");
  assert.is(files.validatorFor("Absent"), null);
  // written after the first look: not read again (one map lookup per check on the hot path)
  writeFileSync(join(dir, "Absent.json"), JSON.stringify(schema));
  assert.is(files.validatorFor("Absent"), null);
  assert.ok(new SchemaFiles(dir).validatorFor("Absent"), "a new instance reads it");
});

test("event data and actor state schemas report the same problems, each with its JSON path", () => {
  const dir = folder();
  const problems = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      assert.instance(err, SchemaViolationError);
      return (err as SchemaViolationError).problems;
    }
    assert.unreachable("no SchemaViolationError");
  };
  const expected = [
    { path: "n", message: "is required" },
    { path: "extra", message: "unknown key (not allowed here)" },
  ];
  assert.equal(
    problems(() => new EventSchemas(dir).check("Counted", { extra: 1 })),
    expected,
  );
  assert.equal(
    problems(() => new StateSchemas(dir).check("Counted", { extra: 1 })),
    expected,
  );
  assert.equal(
    problems(() => new StateSchemas(dir).check("Counted", { n: 2 })),
    [{ path: "n", message: "must be <= 1" }],
  );
  new EventSchemas(dir).check("Counted", { n: 1 });
  new StateSchemas(dir).check("Other", { anything: true });
});

test.run();
