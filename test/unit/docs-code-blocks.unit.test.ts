// Every fenced code block in README.md and docs/**/*.md is either run by a test or shows output:
// the marker convention is described in test/helpers/doc-blocks.ts. This file checks the markers;
// the tests they name run the blocks.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { REPO_ROOT } from "../helpers/cli.ts";
import { allDocBlocks, blocksOf, docFiles, jsonFragment, shellCommands, shellWords, type DocBlock } from "../helpers/doc-blocks.ts";

/** How a line a reader would paste into a shell starts (a `$ ` prompt marks a transcript instead). */
const COMMAND = /^(?:(?:jetbus|npx|npm|node|nats|nats-server|tsx|docker|kubectl|curl|export|cd|mkdir)(?:\s|$)|deploy\/)/;
const OUTPUT_LANGS = new Set(["", "text"]);

/** What is wrong with the markers of these blocks; `source` reads a test file (undefined when it does not exist). */
function problemsOf(blocks: readonly DocBlock[], source: (file: string) => string | undefined): string[] {
  const problems: string[] = [];
  const names = new Map<string, string>();
  for (const b of blocks) {
    const at = `${b.file}:${b.line}`;
    const m = b.marker;
    if (m.kind === "none") {
      problems.push(
        `${at}: a \`\`\`${b.lang} block without a marker on the line above: <!-- test: test/.../X.test.ts#name --> (that test reads it with docBlock("name") and runs it) or <!-- output --> (output, runs nothing)`,
      );
    } else if (m.kind === "unknown") {
      problems.push(`${at}: unknown marker "<!-- ${m.text} -->"; use <!-- test: FILE#name --> or <!-- output -->`);
    } else if (m.kind === "output") {
      if (!OUTPUT_LANGS.has(b.lang)) problems.push(`${at}: a \`\`\`${b.lang} block is code, not output: it needs a test marker`);
      const pasted = b.text.split("\n").find((l) => COMMAND.test(l.trim()));
      if (pasted) problems.push(`${at}: marked output but "${pasted.trim()}" is a command a reader would paste: it needs a test marker`);
    } else {
      const seen = names.get(m.name);
      if (seen) problems.push(`${at}: the name "${m.name}" is taken by ${seen}`);
      names.set(m.name, at);
      const text = /^test\/.+\.test\.ts$/.test(m.file) ? source(m.file) : undefined;
      if (text === undefined) problems.push(`${at}: ${m.file} is no test file (test/**/*.test.ts) of the repository`);
      else if (!new RegExp(`docBlock\\(\\s*["'\`]${m.name}["'\`]\\s*\\)`).test(text))
        problems.push(`${at}: ${m.file} does not read the block (docBlock("${m.name}"))`);
    }
  }
  return problems;
}

const readTest = (file: string) => (existsSync(join(REPO_ROOT, file)) ? readFileSync(join(REPO_ROOT, file), "utf8") : undefined);

test("every code block of README.md and docs/ is marked, and each marked test reads its block", () => {
  const blocks = allDocBlocks();
  assert.ok(blocks.length >= 20, `found the README's blocks (${blocks.length})`);
  const problems = problemsOf(blocks, readTest);
  assert.is(problems.length, 0, `${problems.length} problem(s):\n${problems.join("\n")}\n`);
});

test("the checker refuses what it should: no marker, output that is code, a missing test, a test that does not read the block, a name twice", () => {
  const md = [
    "```sh",
    "npx jetbus up",
    "```",
    "<!-- output -->",
    "```ts",
    "const x = 1;",
    "```",
    "<!-- output -->",
    "```",
    "npx jetbus pub A '{}'",
    "```",
    "<!-- output -->",
    "```",
    "$ npx jetbus status",
    "jetbus.config.json differs from live config revision 1",
    "```",
    "<!-- test: test/unit/nowhere.unit.test.ts#a -->",
    "```sh",
    "npm test",
    "```",
    "<!-- test: test/unit/here.unit.test.ts#b -->",
    "```json",
    "{}",
    "```",
    "<!-- test: test/unit/here.unit.test.ts#c -->",
    "```json",
    "{}",
    "```",
    "<!-- test: test/unit/here.unit.test.ts#c -->",
    "```json",
    "[]",
    "```",
    "<!-- tested somewhere -->",
    "```ts",
    "```",
  ].join("\n");
  const problems = problemsOf(blocksOf(md, "x.md"), (f) => (f === "test/unit/here.unit.test.ts" ? 'docBlock("c")' : undefined));
  assert.equal(
    problems.map(
      (p) =>
        p.replace(/:.*/s, "") +
        " " +
        /(without a marker|is code|would paste|no test file|does not read|is taken|unknown marker)/.exec(p)?.[1],
    ),
    [
      "x.md without a marker",
      "x.md is code",
      "x.md would paste",
      "x.md no test file",
      "x.md does not read",
      "x.md is taken",
      "x.md unknown marker",
    ],
    problems.join("\n"),
  );
  assert.equal(
    blocksOf(md, "x.md").map((b) => b.line),
    [1, 5, 9, 13, 18, 22, 26, 30, 34],
  );
});

test("shell blocks split into commands as a shell would; JSON fragments parse as written in prose", () => {
  assert.equal(shellWords(`npx jetbus pub A '{"a":"b c"}' --id "x y" # note`), ["npx", "jetbus", "pub", "A", '{"a":"b c"}', "--id", "x y"]);
  assert.equal(shellCommands("# comment\nmkdir shop && cd shop && npm init -y\nnats pub a \\\n  -H k:v\nset -a; . f; set +a"), [
    ["mkdir", "shop"],
    ["cd", "shop"],
    ["npm", "init", "-y"],
    ["nats", "pub", "a", "-H", "k:v"],
    ["set", "-a"],
    [".", "f"],
    ["set", "+a"],
  ]);
  assert.equal(jsonFragment('// file (abridged)\n"a": [ ..., { "b": 1 } ],\n"c": { "d": [ ..., 2 ] }'), { a: [{ b: 1 }], c: { d: [2] } });
});

/** The anchor GitHub gives a heading: lower case, punctuation other than `-` and `_` dropped, spaces to `-`. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");

/** The anchors of a Markdown text: one per heading outside code fences. */
function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const h = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (h) out.add(slug(h[1]!));
  }
  return out;
}

/** Relative links of one doc file (`[text](path#anchor)`, images too) that name no file, or no heading in it. */
function brokenLinks(file: string, markdown: string, read: (file: string) => string | undefined): string[] {
  const problems: string[] = [];
  const prose = markdown.replace(/^\s*(```|~~~)[\s\S]*?^\s*\1\s*$/gm, "");
  for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/.test(target)) continue;
    const [path, anchor] = target.split("#") as [string, string | undefined];
    const to =
      path === ""
        ? file
        : normalize(join(dirname(file), path))
            .split("\\")
            .join("/");
    const text = read(to);
    if (text === undefined) problems.push(`${file}: (${target}): no file ${to}`);
    else if (anchor !== undefined && to.endsWith(".md") && !anchorsOf(text).has(anchor))
      problems.push(`${file}: (${target}): no heading "#${anchor}" in ${to}`);
  }
  return problems;
}

const readRepo = (file: string) => {
  const p = join(REPO_ROOT, file);
  return existsSync(p) ? readFileSync(p, "utf8") : undefined;
};

test("every relative link of README.md and docs/ names a file that exists, and a heading in it", () => {
  const files = docFiles();
  assert.ok(files.includes("docs/concepts/actors.md") && files.includes("docs/guides/cluster.md"), files.join(", "));
  const problems = files.flatMap((f) => brokenLinks(f, readRepo(f)!, readRepo));
  assert.equal(problems, []);
  // the README links every file under docs/ (its map of the docs), images aside
  const readme = readRepo("README.md")!;
  const unmapped = files.filter((f) => f !== "README.md" && !readme.includes(`](${f})`));
  assert.equal(unmapped, [], "files of docs/ the README's Documentation section does not link");
  // and it can fail
  const fake = (f: string) => ({ "a.md": "# A\n## Two words, here\n", "img/x.png": "" })[f];
  assert.equal(
    brokenLinks(
      "b.md",
      "[ok](a.md#two-words-here) ![i](img/x.png) [x](a.md#three) [y](c.md) [z](https://e.x/#q)\n```\n[code](nope.md)\n```",
      fake,
    ),
    ['b.md: (a.md#three): no heading "#three" in a.md', "b.md: (c.md): no file c.md"],
  );
});

test.run();
