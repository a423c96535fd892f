// docs/reference/config.md, rendered from the JSON Schemas the config is validated against
// (schemas/config.schema.json and the files it references): every key with its type, default,
// allowed values and description. A key without a description is an error here, so a new key
// cannot reach the reference undocumented.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { anchor, cell, code, table } from "./markdown.ts";

type Schema = Record<string, unknown>;
/** One schema document, by file name. */
type Files = ReadonlyMap<string, Schema>;

/** The config schema and the files its `$ref`s reach, in the order they are read. */
export const CONFIG_SCHEMA_FILES = ["config.schema.json", "actor.schema.json", "routes.schema.json"] as const;
const ROOT_FILE = CONFIG_SCHEMA_FILES[0];

/** A schema reached through a `$ref`: where it lives, for naming its section once. */
type Target = Readonly<{ id: string; file: string; schema: Schema }>;

function resolve(files: Files, ref: string, inFile: string): Target {
  const [path, pointer] = ref.split("#");
  const file = path || inFile;
  const doc = files.get(file);
  if (!doc) throw new Error(`$ref ${ref} in ${inFile}: no schema file ${file}`);
  const def = pointer ? /^\/\$defs\/([A-Za-z0-9_]+)$/.exec(pointer)?.[1] : undefined;
  if (pointer && !def) throw new Error(`$ref ${ref} in ${inFile}: only #/$defs/NAME is understood`);
  const schema = def ? (doc.$defs as Record<string, Schema> | undefined)?.[def] : doc;
  if (!schema) throw new Error(`$ref ${ref} in ${inFile}: no such definition`);
  return { id: `${file}#${def ?? ""}`, file, schema };
}

const isDuration = (s: Schema) => s["x-jetbus-duration"] === true;
const isObjectWithKeys = (s: Schema) => typeof s.properties === "object" && s.properties !== null;
const json = (v: unknown) => code(JSON.stringify(v));

/** A section of the reference: one object schema, at the config path where it is first reached. */
type Section = { path: string; target: Target; rows: string[][]; children: Section[] };

export function renderConfigReference(schemaDir: string): string {
  const files: Files = new Map(CONFIG_SCHEMA_FILES.map((f) => [f, JSON.parse(readFileSync(join(schemaDir, f), "utf8")) as Schema]));
  const root = files.get(ROOT_FILE)!;
  const duration = resolve(files, "#/$defs/duration", ROOT_FILE).schema;
  /** The section of every $ref target that has one, so a second reference (or a recursive one) links to it. */
  const placed = new Map<string, string>();

  function section(path: string, target: Target): Section {
    const s: Section = { path, target, rows: [], children: [] };
    placed.set(target.id, title(path));
    addKeys(s, path, target.schema, target.file);
    return s;
  }

  /** What a key's value is, as a phrase, with the section it links to (sections for $ref'd objects are made here). */
  function typeOf(s: Schema, file: string, path: string, into: Section): string {
    if (isDuration(s)) return "duration";
    if (typeof s.$ref === "string") {
      const t = resolve(files, s.$ref, file);
      if (isDuration(t.schema)) return "duration";
      if (isObjectWithKeys(t.schema)) {
        if (!placed.has(t.id)) into.children.push(section(path, t));
        const at = placed.get(t.id)!;
        return `object: [${at}](#${anchor(at)})`;
      }
      return typeOf(t.schema, t.file, path, into);
    }
    if (Array.isArray(s.enum)) return [...new Set(s.enum.map((v) => (typeof v === "number" ? "integer" : typeof v)))].join(" or ");
    if (Array.isArray(s.anyOf)) return s.anyOf.map((x) => typeOf(x as Schema, file, path, into)).join(" or ");
    switch (s.type) {
      case "array":
        return s.items ? `array of ${typeOf(s.items as Schema, file, `${path}[]`, into)}` : "array";
      case "object":
        if (!isObjectWithKeys(s) && s.additionalProperties && typeof s.additionalProperties === "object")
          return `object of ${typeOf(s.additionalProperties as Schema, file, `${path}.*`, into)}`;
        return "object";
      case undefined:
        return isObjectWithKeys(s) ? "object" : "any";
      default:
        return String(s.type);
    }
  }

  /** The allowed values and ranges a schema states, as short phrases. */
  function allowedOf(s: Schema, file: string): string[] {
    const target = typeof s.$ref === "string" ? resolve(files, s.$ref, file).schema : s;
    if (target !== s && !isDuration(target)) return allowedOf(target, file);
    const out: string[] = [];
    if (Array.isArray(s.enum)) out.push(`one of ${s.enum.map((v) => json(v)).join(", ")}`);
    const min = s.minimum as number | undefined;
    const max = s.maximum as number | undefined;
    if (min !== undefined && max !== undefined) out.push(`${min} to ${max === Number.MAX_SAFE_INTEGER ? "2^53-1" : max}`);
    else if (min !== undefined) out.push(`at least ${min}`);
    else if (max !== undefined) out.push(`at most ${max}`);
    if (s.minLength === 1) out.push("not empty");
    else if (s.minLength !== undefined) out.push(`at least ${String(s.minLength)} characters`);
    if (s.maxLength !== undefined) out.push(`at most ${String(s.maxLength)} characters`);
    if (typeof s.pattern === "string") out.push(`matches ${code(s.pattern)}`);
    if (s.minItems !== undefined) out.push(`at least ${String(s.minItems)} item${s.minItems === 1 ? "" : "s"}`);
    if (s.uniqueItems === true) out.push("no repeats");
    if (s.minProperties !== undefined && s.minProperties === s.maxProperties)
      out.push(`exactly ${String(s.minProperties)} key${s.minProperties === 1 ? "" : "s"}`);
    else if (s.minProperties !== undefined) out.push(`at least ${String(s.minProperties)} key${s.minProperties === 1 ? "" : "s"}`);
    const items = s.items as Schema | undefined;
    if (items && typeof items.$ref !== "string") out.push(...allowedOf(items, file).map((a) => `each ${a}`));
    return out;
  }

  function descriptionOf(s: Schema, file: string, path: string): string {
    const own = s.description;
    if (typeof own === "string") return own;
    if (typeof s.$ref === "string") {
      const t = resolve(files, s.$ref, file).schema;
      if (typeof t.description === "string" && !isDuration(t)) return t.description;
    }
    throw new Error(`${file}: the key ${path} has no "description" (docs/reference/config.md needs one for every key)`);
  }

  /** One row per key of an object schema; inline objects are flattened into the same table, $ref'd ones get a section. */
  function addKeys(into: Section, path: string, s: Schema, file: string): void {
    const props = Object.entries((s.properties ?? {}) as Record<string, Schema>);
    const required = new Set((s.required ?? []) as string[]);
    const needs = (s.dependentRequired ?? {}) as Record<string, string[]>;
    for (const [key, v] of props) {
      const at = path ? `${path}.${key}` : key;
      const type = typeOf(v, file, at, into);
      const allowed = allowedOf(v, file);
      if (needs[key]) allowed.push(`needs ${needs[key].map((k) => code(k)).join(", ")}`);
      const dflt = required.has(key) ? "(required)" : v.default !== undefined ? json(v.default) : "";
      into.rows.push([code(at), cell(type), dflt, cell(allowed.join("; ")), cell(descriptionOf(v, file, at))]);
      if (isObjectWithKeys(v) && typeof v.$ref !== "string") addKeys(into, at, v, file);
      const items = v.items as Schema | undefined;
      if (items && isObjectWithKeys(items) && typeof items.$ref !== "string") addKeys(into, `${at}[]`, items, file);
    }
  }

  function title(path: string): string {
    return path || "top level";
  }

  function render(s: Section): string[] {
    const sentence = (text: unknown) => (typeof text === "string" && text ? (/[.!?]$/.test(text) ? text : `${text}.`) : "");
    const intro = [
      sentence(s.target.schema.description),
      s.target.schema.minProperties === 1 && s.target.schema.maxProperties === 1 ? "Exactly one of these keys." : "",
      s.target.schema.minProperties === 1 && s.target.schema.maxProperties === undefined ? "At least one of these keys." : "",
    ]
      .filter(Boolean)
      .join(" ");
    const head = [`## ${title(s.path)}`, "", ...(intro ? [cell(intro), ""] : []), `Schema: \`schemas/${s.target.file}\``];
    return [...head, "", table(["key", "type", "default", "allowed", "description"], s.rows), "", ...s.children.flatMap(render)];
  }

  const top = section("", { id: `${ROOT_FILE}#`, file: ROOT_FILE, schema: root });
  const sections: Section[] = [];
  const collect = (s: Section) => {
    sections.push(s);
    s.children.forEach(collect);
  };
  collect(top);
  return [
    "<!-- Generated by bin/gen-docs.ts from schemas/config.schema.json, actor.schema.json and routes.schema.json: do not edit; run `npm run gen:docs`. -->",
    "",
    "# Config reference",
    "",
    "One JSON file, `jetbus.config.json` by default (`--config FILE` for another), validated against `schemas/config.schema.json`",
    "(JSON Schema 2020-12) and the schemas it references. Unknown keys are errors, and a missing key takes its default.",
    "`jetbus config validate FILE` lists every problem with its JSON path; `jetbus config show --json` prints a config with its",
    "defaults filled in.",
    "",
    `**Durations** (type \`duration\`). ${cell(String(duration.description))}.`,
    "",
    ...sections.map((s) => `- [${title(s.path)}](#${anchor(title(s.path))})`),
    "",
    ...render(top),
  ]
    .join("\n")
    .replace(/\n+$/, "\n");
}
