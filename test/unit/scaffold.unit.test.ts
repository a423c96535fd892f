import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { schemaToTs, typeNameOf } from "../../runtime/typegen/schema-to-ts.ts";
import { eventTypesModule } from "../../runtime/typegen/event-types.ts";
import { initProject, newActor } from "../../runtime/cli/scaffold/project.ts";
import { loadConfig } from "../../runtime/config/load.ts";
import { ConfigError, UsageError } from "../../runtime/errors.ts";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "jetbus-scaffold-"));
  dirs.push(d);
  return d;
};
test.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test("schemaToTs: objects, required, closed and open objects, arrays, enums, consts, type lists, nesting", () => {
  assert.is(
    schemaToTs({
      type: "object",
      additionalProperties: false,
      required: ["a"],
      properties: { a: { type: "string" }, b: { type: "integer" } },
    }),
    "{\n  a: string;\n  b?: number;\n}",
  );
  assert.is(
    schemaToTs({ type: "object", properties: { a: { type: "boolean" } } }),
    "{\n  a?: boolean;\n  [key: string]: unknown;\n}",
    "extra keys allowed unless additionalProperties is false",
  );
  assert.is(schemaToTs({ type: "array", items: { enum: ["x", "y", 3] } }), 'Array<"x" | "y" | 3>');
  assert.is(schemaToTs({ const: "fixed" }), '"fixed"');
  assert.is(schemaToTs({ type: ["string", "null"] }), "string | null");
  assert.is(
    schemaToTs({
      type: "object",
      additionalProperties: false,
      required: ["in"],
      properties: {
        in: { type: "object", additionalProperties: false, properties: { "odd-key": { type: "number", description: "a */ comment" } } },
      },
    }),
    '{\n  in: {\n    /** a * / comment */\n    "odd-key"?: number;\n  };\n}',
  );
});

test("schemaToTs: what it does not translate is unknown, saying which keyword", () => {
  assert.is(schemaToTs({ oneOf: [{ type: "string" }] }), "unknown /* oneOf is not translated by jetbus types */");
  assert.is(schemaToTs({ $ref: "#/$defs/x" }), "unknown /* $ref is not translated by jetbus types */");
  assert.is(schemaToTs({}), "unknown");
});

test("type names from event types; the module augments EventMap and stays a module with no schemas", () => {
  assert.is(typeNameOf("user.signed-up"), "UserSignedUp");
  assert.is(typeNameOf("OrderPlaced"), "OrderPlaced");
  const empty = eventTypesModule([]);
  assert.match(empty, /^export \{\};$/m);
  const mod = eventTypesModule([
    { eventType: "Order.Placed", file: "x", schema: { type: "object", additionalProperties: false, properties: {} } },
  ]);
  assert.match(mod, /export type OrderPlaced = Record<string, never>;/);
  assert.match(mod, /declare module "jetbus" \{\n  interface EventMap \{\n    "Order\.Placed": OrderPlaced;\n  \}\n\}/);
  assert.throws(
    () =>
      eventTypesModule([
        { eventType: "a.b", file: "1", schema: {} },
        { eventType: "a-b", file: "2", schema: {} },
      ]),
    (e: Error) => e instanceof ConfigError && /both become the TypeScript name AB/.test(e.message),
  );
});

test("init writes a valid project and refuses to run twice; new actor adds module, entry and rule", () => {
  const dir = tmp();
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "p", scripts: { start: "node mine.js" } }));
  const files = initProject(dir).map((r) => `${r.action} ${r.file}`);
  assert.equal(files, [
    "created jetbus.config.json",
    "created schemas/events/UserSignedUp.json",
    "created actors/welcome.ts",
    "created types/events.d.ts",
    "created tsconfig.json",
    "updated package.json",
    "created .gitignore",
  ]);
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  assert.is(pkg.type, "module");
  assert.is(pkg.scripts.start, "node mine.js", "an existing script is kept");
  assert.is(pkg.scripts.dev, "jetbus up --watch");
  assert.match(
    readFileSync(join(dir, "types/events.d.ts"), "utf8"),
    /export type UserSignedUp = \{\n  user_id: string;\n  email: string;\n  plan\?: "free" \| "pro";\n\};/,
  );
  const config = loadConfig(join(dir, "jetbus.config.json"));
  assert.equal(
    config.actors.map((a) => a.module),
    ["./actors/welcome.ts"],
  );
  assert.throws(
    () => initProject(dir),
    (e: Error) =>
      e instanceof UsageError &&
      /jetbus\.config\.json, actors\/welcome\.ts, schemas\/events\/UserSignedUp\.json already exist/.test(e.message),
  );

  newActor(join(dir, "jetbus.config.json"), "audit", "UserSignedUp");
  const after = loadConfig(join(dir, "jetbus.config.json"));
  assert.equal(
    after.actors.map((a) => a.name),
    ["welcome", "audit"],
  );
  assert.equal(after.routes.rules.at(-1), { name: "audit", match: { type: "UserSignedUp" }, to: ["audit"] });
  assert.match(readFileSync(join(dir, "actors/audit.ts"), "utf8"), /defineActor<UserSignedUp>/);
  newActor(join(dir, "jetbus.config.json"), "untyped", "Ping");
  assert.match(readFileSync(join(dir, "actors/untyped.ts"), "utf8"), /export default defineActor\(\{/, "no schema for Ping: no type");
  assert.throws(() => newActor(join(dir, "jetbus.config.json"), "audit", "X"), /already exists/);
  assert.throws(() => newActor(join(dir, "jetbus.config.json"), "Bad Name", "X"), /must be lower-case/);
  assert.not.ok(existsSync(join(dir, "actors/Bad Name.ts")));
});

test.run();
