import type { Transform } from "../types.ts";
import { deletePath, getPath, parsePath, pathProblem, setPath, type Path } from "./path.ts";

/**
 * Config-declared changes to `data` for one rule's targets, applied in a fixed order:
 * pick (keep only these paths), drop, rename (move a value from one path to another), set
 * (constants). The event's id, type, source and correlation are never touched. The original
 * data is never mutated: the same event is shared by every rule.
 * Data that is not an object: pick gives {}, drop and rename do nothing, set starts from {}.
 */

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function compileTransform(t: Transform): (data: unknown) => unknown {
  const pick = t.pick?.map(parsePath);
  const drop = t.drop?.map(parsePath);
  const rename = t.rename ? Object.entries(t.rename).map(([from, to]) => [parsePath(from), parsePath(to)] as [Path, Path]) : undefined;
  const set = t.set ? Object.entries(t.set).map(([p, v]) => [parsePath(p), v] as [Path, unknown]) : undefined;
  return (data) => {
    let out: unknown;
    if (pick) {
      const picked: Record<string, unknown> = {};
      for (const p of pick) {
        const v = getPath(data, p);
        if (v !== undefined) setPath(picked, p, structuredClone(v));
      }
      out = picked;
    } else {
      out = isObject(data) || Array.isArray(data) ? structuredClone(data) : data;
    }
    if (drop && (isObject(out) || Array.isArray(out))) for (const p of drop) deletePath(out, p);
    if (rename && isObject(out)) {
      const moved = rename.map(([from, to]) => [getPath(out, from), from, to] as const);
      for (const [v, from] of moved) if (v !== undefined) deletePath(out, from);
      for (const [v, , to] of moved) if (v !== undefined) setPath(out as Record<string, unknown>, to, v);
    }
    if (set) {
      if (!isObject(out)) out = {};
      for (const [p, v] of set) setPath(out as Record<string, unknown>, p, structuredClone(v));
    }
    return out;
  };
}

/** Path problems of a transform; `at` is its JSON path (`routes.rules[2].transform`). */
export function checkTransform(t: Transform, at: string): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const check = (p: string, where: string) => {
    const bad = pathProblem(p);
    if (bad) problems.push({ path: where, message: bad });
  };
  t.pick?.forEach((p, i) => check(p, `${at}.pick[${i}]`));
  t.drop?.forEach((p, i) => check(p, `${at}.drop[${i}]`));
  for (const [from, to] of Object.entries(t.rename ?? {})) {
    check(from, `${at}.rename.${from}`);
    check(to, `${at}.rename.${from}`);
  }
  for (const p of Object.keys(t.set ?? {})) check(p, `${at}.set.${p}`);
  return problems;
}
