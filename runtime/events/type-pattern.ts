import { typeSubjectFilters } from "./subjects.ts";

/** A compiled yes/no test (a type pattern's, a data filter's, a routing rule's); built once per config revision, called per event. */
export type Predicate<T> = (value: T) => boolean;

/**
 * Type and source patterns. Three forms:
 * - exact: `UserCreated`
 * - prefix glob: `User*` (a trailing `*` not preceded by `.`; matches `User` too), and `*` alone = anything
 * - subject-style: tokens split on `.`, where a `*` token matches one token and a final `>` one or more
 *   (`User.>`, `User.*`, `*.Created`), as NATS subjects do.
 */
export const PatternKind = { Any: "any", Exact: "exact", Prefix: "prefix", Tokens: "tokens" } as const;
export type PatternKind = (typeof PatternKind)[keyof typeof PatternKind];

export type Pattern = Readonly<
  | { kind: typeof PatternKind.Any; text: string }
  | { kind: typeof PatternKind.Exact; text: string }
  | { kind: typeof PatternKind.Prefix; text: string; prefix: string }
  | { kind: typeof PatternKind.Tokens; text: string; tokens: readonly string[] }
>;

export class PatternError extends Error {}

/** Parses a pattern or throws a PatternError saying what is wrong with it. */
export function parsePattern(text: string): Pattern {
  if (text === "*" || text === ">") return { kind: PatternKind.Any, text };
  const tokens = text.split(".");
  if (tokens.some((t) => t === "")) throw new PatternError(`empty token in ${JSON.stringify(text)} (two dots, or a leading/trailing dot)`);
  const tokenWildcards = tokens.some((t) => t === "*" || t === ">");
  if (tokenWildcards) {
    tokens.forEach((t, i) => {
      if (t === ">" && i !== tokens.length - 1) throw new PatternError(`">" must be the last token in ${JSON.stringify(text)}`);
      if (t !== "*" && t !== ">" && /[*>]/.test(t))
        throw new PatternError(`"*" and ">" must be whole tokens in a subject-style pattern (${JSON.stringify(text)})`);
    });
    return { kind: PatternKind.Tokens, text, tokens };
  }
  if (text.endsWith("*")) {
    const prefix = text.slice(0, -1);
    if (/[*>]/.test(prefix)) throw new PatternError(`only one trailing "*" is allowed in a prefix glob (${JSON.stringify(text)})`);
    return { kind: PatternKind.Prefix, text, prefix };
  }
  if (text.includes("*"))
    throw new PatternError(
      `"*" is only allowed at the end (prefix glob "User*") or as a whole token ("User.*"), in ${JSON.stringify(text)}`,
    );
  if (text.includes(">")) throw new PatternError(`">" must be a whole last token, as in "User.>" (${JSON.stringify(text)})`);
  return { kind: PatternKind.Exact, text };
}

/** A fast test for a parsed pattern. */
export function compilePattern(p: Pattern): Predicate<string> {
  switch (p.kind) {
    case PatternKind.Any:
      return () => true;
    case PatternKind.Exact: {
      const want = p.text;
      return (s) => s === want;
    }
    case PatternKind.Prefix: {
      const prefix = p.prefix;
      return (s) => s.startsWith(prefix);
    }
    case PatternKind.Tokens: {
      const want = p.tokens;
      const tail = want[want.length - 1] === ">";
      const fixed = tail ? want.length - 1 : want.length;
      return (s) => {
        const got = s.split(".");
        if (tail ? got.length <= fixed : got.length !== fixed) return false;
        for (let i = 0; i < fixed; i++) if (want[i] !== "*" && want[i] !== got[i]) return false;
        return true;
      };
    }
  }
}

/**
 * The event store's subject filters (under `prefix.`) holding exactly the events whose type `p`
 * matches: the plain subjects and the aggregates' entity subjects (typeSubjectFilters). Undefined
 * when none can: a prefix glob, or a leading `*` that could reach into entity subjects.
 */
export function storeFiltersOf(p: Pattern, prefix: string): string[] | undefined {
  if (p.kind === PatternKind.Any) return [`${prefix}.>`];
  if (p.kind === PatternKind.Prefix) return undefined;
  return typeSubjectFilters(p.text, prefix);
}

/** Can two subject filters match one subject? (Token by token; a `>` matches any rest.) NATS refuses overlapping filters in one consumer. */
export function subjectsOverlap(a: string, b: string): boolean {
  const x = a.split(".");
  const y = b.split(".");
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] === ">" || y[i] === ">") return true;
    if (x[i] !== "*" && y[i] !== "*" && x[i] !== y[i]) return false;
  }
  return x.length === y.length;
}

/** Every string a subject-style pattern matches begins with this (the literal tokens before the first wildcard). */
function literalPrefix(tokens: readonly string[]): string {
  const lit: string[] = [];
  for (const t of tokens) {
    if (t === "*" || t === ">") return lit.length ? lit.join(".") + "." : "";
    lit.push(t);
  }
  return tokens.join(".");
}

/**
 * Does `outer` match every string `inner` matches? Conservative: false when unsure, so the
 * shadowing check never rejects a rule that could match.
 */
export function patternCovers(outer: Pattern | undefined, inner: Pattern | undefined): boolean {
  if (!outer || outer.kind === PatternKind.Any) return true;
  if (!inner || inner.kind === PatternKind.Any) return false;
  if (inner.kind === PatternKind.Exact) return compilePattern(outer)(inner.text);
  switch (outer.kind) {
    case PatternKind.Exact:
      return false;
    case PatternKind.Prefix:
      if (inner.kind === PatternKind.Prefix) return inner.prefix.startsWith(outer.prefix);
      return literalPrefix(inner.tokens).startsWith(outer.prefix) && (literalPrefix(inner.tokens) !== "" || outer.prefix === "");
    case PatternKind.Tokens: {
      if (inner.kind !== PatternKind.Tokens) return false;
      const o = outer.tokens,
        n = inner.tokens;
      for (let i = 0; i < o.length; i++) {
        if (o[i] === ">") return n.length > i;
        if (i >= n.length) return false;
        if (n[i] === ">") return false;
        if (o[i] !== "*" && o[i] !== n[i]) return false;
      }
      return o.length === n.length;
    }
  }
}
