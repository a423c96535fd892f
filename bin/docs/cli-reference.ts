// docs/reference/cli.md, rendered from the commander program itself (runtime/cli/program.ts
// builds it without parsing anything) and from the error codes of runtime/errors/: a command, a
// flag, a default or an exit code exists in this file exactly when it exists in the code.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, type Argument, type Option } from "commander";
import ts from "typescript";
import { withCommonOptions } from "../../runtime/cli/options.ts";
import { ExitCode, exitCodeFor, hintFor } from "../../runtime/cli/exit.ts";
import { ErrorCode, JetbusError } from "../../runtime/errors.ts";
import { anchor, cell, code, table } from "./markdown.ts";

/** Where the error classes and the exit codes are read from (doc comments included). */
export const ERRORS_DIR = join("runtime", "errors");
export const EXIT_FILE = join("runtime", "cli", "exit.ts");

/** `jetbus config validate` for a command of the tree. */
function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

function commandsOf(cmd: Command): Command[] {
  return cmd.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden && c.name() !== "help");
}

/** Every command of the tree, depth first in registration order (the order of `jetbus --help`). */
function allCommands(cmd: Command): Command[] {
  return commandsOf(cmd).flatMap((c) => [c, ...allCommands(c)]);
}

/** The options `withCommonOptions` adds, as the yardstick for "takes the common options". */
function commonOptions(): readonly Option[] {
  return withCommonOptions(new Command("x")).options;
}

const sameOption = (a: Option, b: Option) => a.flags === b.flags && a.description === b.description;

/** What the help text after the options says (the examples), captured through commander's own output. */
function helpAfter(cmd: Command): string {
  let out = "";
  cmd.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  cmd.outputHelp();
  const info = cmd.helpInformation();
  const at = out.indexOf(info);
  return at < 0 ? "" : out.slice(at + info.length).trim();
}

/** The example lines of a command's help ("Example:" / "Examples:" followed by indented lines). */
export function examplesOf(cmd: Command): string[] {
  const after = helpAfter(cmd);
  const m = /(?:^|\n)Examples?:\n((?: {2}.*(?:\n|$))+)/.exec(after);
  return m
    ? m[1]!
        .trimEnd()
        .split("\n")
        .map((l) => l.slice(2))
    : [];
}

function defaultOf(value: unknown, description: string | undefined): string {
  if (description !== undefined) return code(description);
  if (value === undefined) return "";
  return code(Array.isArray(value) ? value.join(" ") : String(value));
}

function argumentRow(a: Argument): string[] {
  const term = a.required ? `<${a.name()}${a.variadic ? "..." : ""}>` : `[${a.name()}${a.variadic ? "..." : ""}]`;
  const notes = [
    a.required ? "required" : "optional",
    a.variadic ? "repeatable" : "",
    a.argChoices ? `one of ${a.argChoices.join(", ")}` : "",
  ];
  return [
    code(term),
    cell(notes.filter(Boolean).join("; ")),
    cell(a.description || "(no description)"),
    defaultOf(a.defaultValue, a.defaultValueDescription),
  ];
}

function optionRow(o: Option): string[] {
  const notes = [
    o.mandatory ? "required" : "",
    o.argChoices ? `one of ${o.argChoices.join(", ")}` : "",
    o.envVar ? `env ${o.envVar}` : "",
  ].filter(Boolean);
  const description = [o.description || "(no description)", notes.length ? `(${notes.join("; ")})` : ""].filter(Boolean).join(" ");
  // a `--no-x` flag's implied `true` is no default a reader sets: leave it out
  return [code(o.flags), cell(description), o.negate ? "" : defaultOf(o.defaultValue, o.defaultValueDescription)];
}

function commandSection(cmd: Command, common: readonly Option[]): string {
  const help = cmd.createHelp();
  const takesCommon = common.every((c) => cmd.options.some((o) => sameOption(o, c)));
  const own = cmd.options.filter((o) => !o.hidden && !(takesCommon && common.some((c) => sameOption(o, c))));
  const subs = commandsOf(cmd);
  const out = [`### ${pathOf(cmd)}`, "", cell(cmd.description()), "", code(help.commandUsage(cmd))];
  if (subs.length) {
    out.push(
      "",
      table(
        ["subcommand", "what it does"],
        subs.map((s) => [`[${code(pathOf(s))}](#${anchor(pathOf(s))})`, cell(s.description())]),
      ),
    );
    return out.join("\n");
  }
  if (cmd.registeredArguments.length)
    out.push("", table(["argument", "", "description", "default"], cmd.registeredArguments.map(argumentRow)));
  if (own.length) out.push("", table(["option", "description", "default"], own.map(optionRow)));
  out.push("", takesCommon ? "Takes the [common options](#common-options)." : "Takes none of the common options.");
  const examples = examplesOf(cmd);
  if (examples.length) out.push("", examples.length > 1 ? "Examples:" : "Example:", "", "```sh", ...examples, "```");
  return out.join("\n");
}

/** A `const X = { A: v, ... } as const` of a file: each member's value with its doc comment. */
function documentedMembers(file: string, constName: string): Array<{ name: string; value: string; doc: string }> {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  for (const stmt of source.statements) {
    if (!ts.isVariableStatement(stmt)) continue;
    for (const decl of stmt.declarationList.declarations) {
      if (!ts.isIdentifier(decl.name) || decl.name.text !== constName || !decl.initializer) continue;
      let init: ts.Expression = decl.initializer;
      while (ts.isAsExpression(init) || ts.isSatisfiesExpression(init)) init = init.expression;
      if (!ts.isObjectLiteralExpression(init)) throw new Error(`${file}: ${constName} is not an object literal`);
      return init.properties.filter(ts.isPropertyAssignment).map((p) => ({
        name: p.name.getText(source),
        value: p.initializer.getText(source).replace(/^"|"$/g, ""),
        doc: ts
          .getJSDocCommentsAndTags(p)
          .map((d) => (ts.isJSDoc(d) ? (ts.getTextOfJSDocComment(d.comment) ?? "") : ""))
          .join(" ")
          .replace(/\s+/g, " ")
          .trim(),
      }));
    }
  }
  throw new Error(`${file}: no const ${constName}`);
}

/** Each error class of runtime/errors/ and the ErrorCode its constructor passes to super (inherited when it passes none). */
function errorClasses(root: string): Map<string, string[]> {
  const parent = new Map<string, string>();
  const own = new Map<string, string>();
  const dir = join(root, ERRORS_DIR);
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .sort()) {
    const source = ts.createSourceFile(f, readFileSync(join(dir, f), "utf8"), ts.ScriptTarget.ES2022, true);
    for (const stmt of source.statements) {
      if (!ts.isClassDeclaration(stmt) || !stmt.name) continue;
      const base = stmt.heritageClauses?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)?.types[0]?.expression.getText(source);
      if (base) parent.set(stmt.name.text, base);
      const visit = (n: ts.Node): void => {
        if (
          ts.isCallExpression(n) &&
          n.expression.kind === ts.SyntaxKind.SuperKeyword &&
          n.arguments[0] &&
          ts.isPropertyAccessExpression(n.arguments[0]) &&
          n.arguments[0].expression.getText(source) === "ErrorCode"
        ) {
          own.set(stmt.name!.text, n.arguments[0].name.text);
          return;
        }
        n.forEachChild(visit);
      };
      stmt.forEachChild(visit);
    }
  }
  const codeOf = (cls: string): string | undefined => own.get(cls) ?? (parent.has(cls) ? codeOf(parent.get(cls)!) : undefined);
  const byCode = new Map<string, string[]>();
  for (const cls of parent.keys()) {
    const key = codeOf(cls);
    if (key === undefined) continue;
    const value = ErrorCode[key as keyof typeof ErrorCode];
    byCode.set(value, [...(byCode.get(value) ?? []), cls]);
  }
  return byCode;
}

function exitCodes(root: string): string {
  const exits = documentedMembers(join(root, EXIT_FILE), "ExitCode");
  const exitRows = exits.map((e) => [code(e.value), cell(e.doc || "(no description)")]);
  const codes = documentedMembers(join(root, ERRORS_DIR, "base.ts"), "ErrorCode");
  const classes = errorClasses(root);
  const rows = codes.map((c) => [
    code(c.value),
    // the exit code is what the CLI's own mapping answers for an error of this code
    code(String(exitCodeFor(new JetbusError(c.value as ErrorCode, "")))),
    cell((classes.get(c.value) ?? []).map((x) => `\`${x}\``).join(", ")),
    cell(c.doc || "(no description)"),
    cell(hintFor(c.value) ?? ""),
  ]);
  return [
    "## Exit codes",
    "",
    table(["exit code", "meaning"], exitRows),
    "",
    `A usage error that commander itself finds (an unknown option, a missing argument) exits ${ExitCode.BadInput}; an error that is no jetbus error exits ${ExitCode.Failed}.`,
    "",
    "## Error codes",
    "",
    "Every error jetbus raises on purpose has a stable code, printed as `error [CODE]: message` on stderr and followed by a `hint:` line",
    "(the error's own hint when it has one, else the one below). The classes are exported by the package for code that embeds jetbus.",
    "",
    table(["code", "exit", "error classes", "meaning", "default hint"], rows),
  ].join("\n");
}

/** The whole docs/reference/cli.md for a command tree; `root` is the repository (for runtime/errors and exit.ts). */
export function renderCliReference(program: Command, root: string): string {
  const common = commonOptions();
  const all = allCommands(program);
  return [
    "<!-- Generated by bin/gen-docs.ts from the commander program (runtime/cli/program.ts) and runtime/errors/: do not edit; run `npm run gen:docs`. -->",
    "",
    "# CLI reference",
    "",
    cell(`\`jetbus\` ${program.version() ?? ""}: ${program.description()}.`),
    "Every command takes `-h, --help`; `jetbus --version` prints the version. On an error a command prints one `error [CODE]: ...` line and a",
    "`hint:` line on stderr (the stack only with `--debug`) and exits with the [exit code](#exit-codes) of that [error code](#error-codes).",
    "",
    "| command | what it does |",
    "| --- | --- |",
    ...all.filter((c) => c.parent === program).map((c) => `| [${code(pathOf(c))}](#${anchor(pathOf(c))}) | ${cell(c.description())} |`),
    "",
    "## Common options",
    "",
    "Most commands that talk to NATS take these; each command's section says whether it does.",
    "",
    table(["option", "description", "default"], common.map(optionRow)),
    "",
    "## Commands",
    "",
    all.map((c) => commandSection(c, common)).join("\n\n"),
    "",
    exitCodes(root),
    "",
  ].join("\n");
}
