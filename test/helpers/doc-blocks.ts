// The fenced code blocks of the docs (README.md and docs/**/*.md) and their markers, for the tests
// that run them. The convention, checked by test/unit/docs-code-blocks.unit.test.ts:
//
//   <!-- test: test/e2e/package.e2e.test.ts#first-actor-run -->
//   ```sh
//   npx jetbus up
//   ```
//
// The line right above every fence is a marker. `test: FILE#NAME` names the block and the test file
// that runs it; that file reads the block's text with `docBlock("NAME")` (so it runs what the docs
// say, not a copy) and compiles, runs, routes or compares it. `output` marks a block that shows
// output (no info string, and no line a reader would paste as a command) and runs nothing. A name
// is unique across the docs, so a block keeps its test when it moves from one file to another.
// Generated files (docs/reference/) are exempt: their drift tests check them.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { REPO_ROOT } from "./cli.ts";

/** Files written by `npm run gen:docs`, checked by test/unit/docs-reference.unit.test.ts instead. */
export const GENERATED_DOCS: readonly string[] = ["docs/reference/cli.md", "docs/reference/config.md"];

export type Marker =
  | Readonly<{ kind: "test"; file: string; name: string }>
  | Readonly<{ kind: "output" }>
  | Readonly<{ kind: "none" }>
  | Readonly<{ kind: "unknown"; text: string }>;

export type DocBlock = Readonly<{
  /** Relative to the repository, with forward slashes. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** First word of the info string ("" for none). */
  lang: string;
  /** The lines between the fences, without the final newline. */
  text: string;
  marker: Marker;
}>;

const MARKER = /^\s*<!--\s*(.*?)\s*-->\s*$/;
const TEST_MARKER = /^test:\s*(\S+?)#([a-z0-9][a-z0-9-]*)$/;

export function parseMarker(line: string | undefined): Marker {
  const m = line === undefined ? null : MARKER.exec(line);
  if (!m) return { kind: "none" };
  const body = m[1]!;
  if (body === "output") return { kind: "output" };
  const t = TEST_MARKER.exec(body);
  if (t) return { kind: "test", file: t[1]!, name: t[2]! };
  return { kind: "unknown", text: body };
}

/** The fenced blocks of one Markdown text (``` or ~~~ fences, indented up to the fence's own indent). */
export function blocksOf(markdown: string, file: string): DocBlock[] {
  const lines = markdown.split("\n");
  const out: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(lines[j]!);
      if (close && close[1]![0] === fence![0] && close[1]!.length >= fence!.length) break;
      body.push(lines[j]!.startsWith(indent!) ? lines[j]!.slice(indent!.length) : lines[j]!.trimStart());
    }
    out.push({ file, line: i + 1, lang: lang!.toLowerCase(), text: body.join("\n"), marker: parseMarker(lines[i - 1]) });
    i = j;
  }
  return out;
}

/** README.md and every Markdown file under docs/, relative to the repository, sorted. */
export function docFiles(root = REPO_ROOT): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith(".md") ? [p] : [];
    });
  const docs = existsSync(join(root, "docs")) ? walk(join(root, "docs")) : [];
  return ["README.md", ...docs.map((p) => relative(root, p).split("\\").join("/")).sort()];
}

/** Every fenced block of the docs that is not generated. */
export function allDocBlocks(root = REPO_ROOT): DocBlock[] {
  return docFiles(root)
    .filter((f) => !GENERATED_DOCS.includes(f))
    .flatMap((f) => blocksOf(readFileSync(join(root, f), "utf8"), f));
}

/** The text of the block marked `test: ...#NAME`, wherever it lives in the docs; an error unless exactly one block has that name. */
export function docBlock(name: string): string {
  const found = allDocBlocks().filter((b) => b.marker.kind === "test" && b.marker.name === name);
  if (found.length !== 1) throw new Error(`${found.length} doc blocks are named "${name}" (<!-- test: FILE#${name} -->); expected one`);
  return found[0]!.text;
}

/** The words of one shell command line: single and double quotes, backslash escapes; `# comment` dropped. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${line}`);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let s = "";
      for (; j < line.length && line[j] !== '"'; j++) s += line[j] === "\\" && j + 1 < line.length ? line[++j] : line[j];
      if (j >= line.length) throw new Error(`unclosed " in: ${line}`);
      word = (word ?? "") + s;
      i = j;
    } else if (c === "\\" && i + 1 < line.length) {
      word = (word ?? "") + line[++i];
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "#" && word === null) {
      break;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** A line up to its `# comment` (a `#` that starts a word outside quotes). */
function withoutComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

/**
 * The commands of a shell block, each as its words: comment lines dropped, `\` continuations
 * joined, and `a && b` or `a; b` split into separate commands.
 */
export function shellCommands(text: string): string[][] {
  const joined = text.replace(/\\\n\s*/g, " ");
  return joined
    .split("\n")
    .map(withoutComment)
    .flatMap((line) => line.split(/\s*(?:&&|;)\s+(?=(?:[^'"]|'[^']*'|"[^"]*")*$)/))
    .map(shellWords)
    .filter((w) => w.length > 0);
}

/**
 * A JSON block as written in prose: `// comment` lines dropped, `...` placeholders for what is
 * left out dropped, and a bare list of members (`"actors": [...], "routes": {...}`) wrapped in braces.
 */
export function jsonFragment(text: string): unknown {
  const body = text
    .split("\n")
    .filter((l) => !/^\s*\/\//.test(l))
    .join("\n")
    .replace(/\.\.\.\s*,/g, "")
    .trim();
  return JSON.parse(body.startsWith('"') ? `{${body}}` : body);
}

/**
 * What is wrong with `jetbus ARGS...` as a command line, checked against the real command tree
 * without running it: an unknown (sub)command or option, a missing option value, too few or too
 * many arguments. Undefined when commander would accept it. `program` is consumed (parsing sets
 * option values): build one per call.
 */
export function jetbusUsageProblem(program: Command, args: readonly string[]): string | undefined {
  const line = `jetbus ${args.join(" ")}`;
  let cmd = program;
  let rest = [...args];
  for (;;) {
    const sub = cmd.commands.find((c) => c.name() === rest[0] || c.aliases().includes(rest[0]!));
    if (!sub) break;
    cmd = sub;
    rest = rest.slice(1);
  }
  if (rest.includes("--help") || rest.includes("-h") || (cmd === program && rest.includes("--version"))) return undefined;
  if (cmd.commands.length > 0) return `${line}: "${rest[0] ?? ""}" is no subcommand of "${cmd.name()}"`;
  let errors = "";
  cmd.configureOutput({ writeErr: (s) => (errors += s), writeOut: () => undefined });
  try {
    const { operands, unknown } = cmd.parseOptions(rest);
    if (unknown.length) return `${line}: unknown option ${unknown[0]}`;
    const declared = cmd.registeredArguments;
    const required = declared.filter((a) => a.required).length;
    if (operands.length < required) return `${line}: ${required} argument(s) needed, ${operands.length} given`;
    if (operands.length > declared.length && !declared.at(-1)?.variadic)
      return `${line}: ${operands.length} argument(s) given, "${cmd.name()}" takes ${declared.length}`;
    const missing = cmd.options.find((o) => o.mandatory && cmd.getOptionValue(o.attributeName()) === undefined);
    if (missing) return `${line}: ${missing.flags} is required`;
  } catch (err) {
    return `${line}: ${errors.trim() || (err as Error).message}`;
  }
  return undefined;
}
