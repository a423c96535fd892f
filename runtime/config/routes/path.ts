/** Dotted paths (`user.address.city`, `tags.0`) into JSON data. */

export type Path = readonly string[];

export function parsePath(text: string): Path {
  return text.split(".");
}

/** Problem with a dotted path, or undefined when it is usable. */
export function pathProblem(text: string): string | undefined {
  if (text.length === 0) return "empty path";
  if (text.split(".").some((s) => s === "")) return `empty segment in path ${JSON.stringify(text)}`;
  if (text.split(".").some((s) => s === "__proto__" || s === "constructor" || s === "prototype"))
    return `path ${JSON.stringify(text)} uses a reserved name`;
  return undefined;
}

function isContainer(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

/** The value at a path, or undefined when any step is missing. */
export function getPath(root: unknown, path: Path): unknown {
  let v = root;
  for (const seg of path) {
    if (!isContainer(v) || !Object.prototype.hasOwnProperty.call(v, seg)) return undefined;
    v = v[seg];
  }
  return v;
}

/** Sets a value, creating objects along the way (a non-object in the way is replaced). Mutates `root`. */
export function setPath(root: Record<string, unknown>, path: Path, value: unknown): void {
  let v: Record<string, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]!;
    const next = v[seg];
    if (!isContainer(next)) v[seg] = {};
    v = v[seg] as Record<string, unknown>;
  }
  v[path[path.length - 1]!] = value;
}

/** Removes the value at a path if present. Mutates `root`. */
export function deletePath(root: unknown, path: Path): void {
  const parent = getPath(root, path.slice(0, -1));
  if (!isContainer(parent)) return;
  const last = path[path.length - 1]!;
  if (Array.isArray(parent) && /^\d+$/.test(last)) parent.splice(Number(last), 1);
  else delete parent[last];
}

/** Structural equality for JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => jsonEqual(x, bb[i]));
  }
  const ka = Object.keys(a),
    kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}
