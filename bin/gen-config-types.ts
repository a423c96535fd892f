// Generates runtime/config/schema-types.ts from schemas/{config,actor,routes}.schema.json, so the
// config's TypeScript types can be checked against the schemas (test/unit/config-types.unit.test.ts).
// `npm run gen:config-types` writes the file; the unit test fails when it is out of date.
//
// Two forms of every type: `Input` types are what a config file may contain (only `required` keys
// required, durations as milliseconds or strings) and the plain ones what validation returns
// (every key with a default filled in, every duration in milliseconds). Only the schema keywords
// jetbus uses are understood; any other keyword is an error, so the schemas cannot outgrow this.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

type Schema = Record<string, unknown>;
type Form = "loaded" | "input";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const SCHEMA_FILES = { config: "config.schema.json", actor: "actor.schema.json", routes: "routes.schema.json" } as const;
export const OUTPUT = join(ROOT, "runtime", "config", "schema-types.ts");

/** Keywords that only constrain values (checked by ajv at run time), not the shape of the type. */
const VALUE_ONLY = new Set([
  "$schema",
  "$id",
  "$defs",
  "title",
  "description",
  "default",
  "pattern",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "minItems",
  "uniqueItems",
  "dependentRequired",
  "x-jetbus-duration",
]);
const SHAPE = new Set([
  "type",
  "enum",
  "anyOf",
  "$ref",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "minProperties",
  "maxProperties",
]);

const pascal = (s: string) => s.replace(/(^|[_-])([a-z])/g, (_, __, c: string) => c.toUpperCase());

export function renderConfigTypes(schemaDir: string): string {
  const files = Object.fromEntries(
    Object.entries(SCHEMA_FILES).map(([k, f]) => [k, JSON.parse(readFileSync(join(schemaDir, f), "utf8")) as Schema]),
  );
  const fileKey = (name: string) => {
    const key = Object.entries(SCHEMA_FILES).find(([, f]) => f === name)?.[0];
    if (!key) throw new Error(`$ref to an unknown schema file ${name}`);
    return key;
  };
  const typeName = (file: string, def: string | undefined, form: Form) =>
    `${pascal(file)}${def ? pascal(def) : ""}${form === "input" ? "Input" : ""}`;

  /** The named type a $ref points at, or "duration" for the duration definition. */
  function refTarget(ref: string, inFile: string, form: Form): string {
    const [path, pointer] = ref.split("#");
    const file = path ? fileKey(path) : inFile;
    const def = pointer ? /^\/\$defs\/([A-Za-z0-9_]+)$/.exec(pointer)?.[1] : undefined;
    if (pointer && !def) throw new Error(`unsupported $ref ${ref}`);
    const target = def ? (files[file]!.$defs as Record<string, Schema>)[def]! : files[file]!;
    if (target["x-jetbus-duration"] === true) return form === "loaded" ? "number" : "number | string";
    return typeName(file, def, form);
  }

  function render(s: Schema, file: string, form: Form, at: string): string {
    for (const k of Object.keys(s))
      if (!VALUE_ONLY.has(k) && !SHAPE.has(k)) throw new Error(`${at}: schema keyword "${k}" is not understood by bin/gen-config-types.ts`);
    if (s["x-jetbus-duration"] === true) return form === "loaded" ? "number" : "number | string";
    if (typeof s.$ref === "string") return refTarget(s.$ref, file, form);
    if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
    if (Array.isArray(s.anyOf)) return s.anyOf.map((x, i) => render(x as Schema, file, form, `${at}/anyOf/${i}`)).join(" | ");
    switch (s.type) {
      case "string":
        return "string";
      case "integer":
      case "number":
        return "number";
      case "boolean":
        return "boolean";
      case "array":
        return s.items ? `Array<${render(s.items as Schema, file, form, `${at}/items`)}>` : "unknown[]";
      case "object":
        return renderObject(s, file, form, at);
      case undefined:
        if (s.properties) return renderObject(s, file, form, at);
    }
    throw new Error(`${at}: cannot render ${JSON.stringify(s).slice(0, 80)}`);
  }

  function renderObject(s: Schema, file: string, form: Form, at: string): string {
    const props = Object.entries((s.properties ?? {}) as Record<string, Schema>);
    const extra = s.additionalProperties;
    if (props.length === 0)
      return `Record<string, ${extra && typeof extra === "object" ? render(extra as Schema, file, form, `${at}/additionalProperties`) : "unknown"}>`;
    if (extra !== false) throw new Error(`${at}: an object with properties must say additionalProperties: false`);
    const required = new Set((s.required ?? []) as string[]);
    const field = ([k, v]: [string, Schema]) => {
      const present = required.has(k) || (form === "loaded" && v.default !== undefined);
      return `${JSON.stringify(k)}${present ? "" : "?"}: ${render(v, file, form, `${at}/properties/${k}`)}`;
    };
    // exactly one of the keys (a filter's operator): a union of one-key objects
    if (s.minProperties === 1 && s.maxProperties === 1)
      return props.map(([k, v]) => `{ ${JSON.stringify(k)}: ${render(v, file, form, `${at}/properties/${k}`)} }`).join(" | ");
    return `{ ${props.map(field).join("; ")} }`;
  }

  const out = [
    "// Generated by bin/gen-config-types.ts from schemas/*.schema.json: do not edit; run `npm run gen:config-types`.",
    "// `XInput`: what a config file may hold. `X`: what validation returns (defaults filled in, durations in milliseconds).",
    "",
  ];
  for (const form of ["loaded", "input"] as const) {
    for (const [file, schema] of Object.entries(files)) {
      out.push(`export type ${typeName(file, undefined, form)} = ${render(schema, file, form, `${file}#`)};`);
      for (const [def, s] of Object.entries((schema.$defs ?? {}) as Record<string, Schema>)) {
        if (s["x-jetbus-duration"] === true) continue;
        out.push(`export type ${typeName(file, def, form)} = ${render(s, file, form, `${file}#/$defs/${def}`)};`);
      }
    }
  }
  return out.join("\n") + "\n";
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(OUTPUT, renderConfigTypes(join(ROOT, "schemas")));
  process.stdout.write(`wrote ${OUTPUT}\n`);
}
