import type { DataFilter } from "../types.ts";
import { getPath, jsonEqual, parsePath, pathProblem } from "./path.ts";
import type { Predicate } from "../../events/type-pattern.ts";

/**
 * Data predicates, shaped like Knative trigger filters: one operator per filter object, each
 * operator naming dotted paths. Every path listed under one operator must hold (AND).
 * Missing values: `ne` holds, every other comparison fails.
 */

export type FilterProblem = Readonly<{ path: string; message: string }>;

/** `/abc/i` carries flags; anything else is the pattern source. */
export function parseRegex(text: string): RegExp {
  const m = /^\/(.*)\/([imsu]*)$/s.exec(text);
  return m ? new RegExp(m[1]!, m[2]) : new RegExp(text);
}

function isPrimitive(v: unknown): boolean {
  return v === null || (typeof v !== "object" && typeof v !== "function");
}

type Leaf = (value: unknown, expected: unknown) => boolean;

const LEAVES: Readonly<Record<string, Leaf>> = {
  gt: (v, e) => typeof v === "number" && v > (e as number),
  gte: (v, e) => typeof v === "number" && v >= (e as number),
  lt: (v, e) => typeof v === "number" && v < (e as number),
  lte: (v, e) => typeof v === "number" && v <= (e as number),
  prefix: (v, e) => typeof v === "string" && v.startsWith(e as string),
  suffix: (v, e) => typeof v === "string" && v.endsWith(e as string),
};

function everyPath(entries: Array<[string, unknown]>, test: (value: unknown, expected: unknown) => boolean): Predicate<unknown> {
  const compiled = entries.map(([p, e]) => [parsePath(p), e] as const);
  if (compiled.length === 1) {
    const [path, expected] = compiled[0]!;
    return (data) => test(getPath(data, path), expected);
  }
  return (data) => compiled.every(([path, expected]) => test(getPath(data, path), expected));
}

/** Compiles a filter (already checked) into a predicate over `data`. */
export function compileFilter(f: DataFilter): Predicate<unknown> {
  const [op, arg] = Object.entries(f)[0]! as [string, unknown];
  switch (op) {
    case "all": {
      const parts = (arg as DataFilter[]).map(compileFilter);
      return (d) => parts.every((p) => p(d));
    }
    case "any": {
      const parts = (arg as DataFilter[]).map(compileFilter);
      return (d) => parts.some((p) => p(d));
    }
    case "not": {
      const inner = compileFilter(arg as DataFilter);
      return (d) => !inner(d);
    }
    case "exists":
      return everyPath(
        (arg as string[]).map((p) => [p, true]),
        (v) => v !== undefined,
      );
    case "eq":
      return everyPath(Object.entries(arg as object), (v, e) => (isPrimitive(e) ? v === e : jsonEqual(v, e)));
    case "ne":
      return everyPath(Object.entries(arg as object), (v, e) => (isPrimitive(e) ? v !== e : !jsonEqual(v, e)));
    case "in":
      return everyPath(
        Object.entries(arg as Record<string, unknown[]>).map(([p, list]) => {
          const prims = new Set(list.filter(isPrimitive));
          const objects = list.filter((x) => !isPrimitive(x));
          return [p, { prims, objects }];
        }),
        (v, e) => {
          const { prims, objects } = e as { prims: Set<unknown>; objects: unknown[] };
          return isPrimitive(v) ? v !== undefined && prims.has(v) : objects.some((o) => jsonEqual(v, o));
        },
      );
    case "regex":
      return everyPath(
        Object.entries(arg as Record<string, string>).map(([p, src]) => [p, parseRegex(src)]),
        (v, e) => typeof v === "string" && (e as RegExp).test(v),
      );
    default: {
      const leaf = LEAVES[op];
      if (!leaf) throw new Error(`unknown filter operator ${op}`);
      return everyPath(Object.entries(arg as object), leaf);
    }
  }
}

/** Problems a schema cannot see: bad paths, regexes that do not compile. `at` is the filter's JSON path. */
export function checkFilter(f: DataFilter, at: string): FilterProblem[] {
  const [op, arg] = Object.entries(f)[0]! as [string, unknown];
  const problems: FilterProblem[] = [];
  const paths = (keys: string[]) => {
    for (const k of keys) {
      const bad = pathProblem(k);
      if (bad) problems.push({ path: `${at}.${op}${op === "exists" ? `[${keys.indexOf(k)}]` : `.${k}`}`, message: bad });
    }
  };
  switch (op) {
    case "all":
    case "any":
      (arg as DataFilter[]).forEach((g, i) => problems.push(...checkFilter(g, `${at}.${op}[${i}]`)));
      break;
    case "not":
      problems.push(...checkFilter(arg as DataFilter, `${at}.not`));
      break;
    case "exists":
      paths(arg as string[]);
      break;
    case "regex":
      paths(Object.keys(arg as object));
      for (const [k, src] of Object.entries(arg as Record<string, string>)) {
        try {
          parseRegex(src);
        } catch (err) {
          problems.push({ path: `${at}.regex.${k}`, message: `regex does not compile: ${(err as Error).message}` });
        }
      }
      break;
    default:
      paths(Object.keys(arg as object));
  }
  return problems;
}
