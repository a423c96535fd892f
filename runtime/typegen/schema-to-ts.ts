/**
 * A TypeScript type from a JSON Schema, for the subset event schemas use: `type` (one or a list),
 * object `properties` / `required` / `additionalProperties`, `items` (one schema), `enum`, `const`,
 * `description` (as a comment). What it does not translate becomes `unknown` with a comment
 * saying which keyword: `$ref`, `oneOf`, `anyOf`, `allOf`, `not`, `if`/`then`/`else`,
 * `patternProperties`, tuple `prefixItems`. Keywords that only narrow a value (`format`, `minimum`,
 * `pattern`, `minLength`, ...) have no TypeScript form and are left to ajv at publish time.
 */
type Schema = Readonly<Record<string, unknown>>;

const UNSUPPORTED = ["$ref", "oneOf", "anyOf", "allOf", "not", "if", "patternProperties", "prefixItems"] as const;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function literal(value: unknown): string {
  return value === null || ["string", "number", "boolean"].includes(typeof value) ? JSON.stringify(value) : "unknown";
}

function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

function comment(text: unknown, indent: string): string {
  return typeof text === "string" && text.trim() ? `${indent}/** ${text.trim().replace(/\*\//g, "* /")} */\n` : "";
}

function objectType(schema: Schema, indent: string): string {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  const inner = indent + "  ";
  const lines = Object.entries(props).map(
    ([name, sub]) =>
      `${comment(sub.description, inner)}${inner}${propertyKey(name)}${required.has(name) ? "" : "?"}: ${schemaToTs(sub, inner)};\n`,
  );
  // JSON Schema allows keys it does not list unless additionalProperties is false
  const extra = schema.additionalProperties;
  if (extra !== false)
    lines.push(`${inner}[key: string]: ${extra === undefined || extra === true ? "unknown" : schemaToTs(extra as Schema, inner)};\n`);
  return lines.length ? `{\n${lines.join("")}${indent}}` : "Record<string, never>";
}

function singleType(type: string, schema: Schema, indent: string): string {
  switch (type) {
    case "string":
      return "string";
    case "number":
    case "integer":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array":
      return schema.items && typeof schema.items === "object" ? `Array<${schemaToTs(schema.items as Schema, indent)}>` : "unknown[]";
    case "object":
      return objectType(schema, indent);
    default:
      return "unknown";
  }
}

/** The TypeScript type text of one schema; `indent` is the indentation of the line it starts on. */
export function schemaToTs(schema: Schema | boolean, indent = ""): string {
  if (schema === true) return "unknown";
  if (schema === false) return "never";
  const unsupported = UNSUPPORTED.find((k) => k in schema);
  if (unsupported) return `unknown /* ${unsupported} is not translated by jetbus types */`;
  if ("const" in schema) return literal(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map(literal).join(" | ") || "never";
  const type = schema.type ?? (schema.properties ? "object" : undefined);
  if (Array.isArray(type)) return type.map((t) => singleType(String(t), schema, indent)).join(" | ");
  if (typeof type === "string") return singleType(type, schema, indent);
  return "unknown";
}

/** A TypeScript type name for an event type: `user.signed-up` becomes `UserSignedUp`. */
export function typeNameOf(eventType: string): string {
  const name = eventType
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
  return /^[0-9]/.test(name) ? `Event${name}` : name || "Event";
}
