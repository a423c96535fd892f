import type { Problem } from "./base.ts";

/** The message of an error about a document: a header line, then one indented line per problem with its JSON path. */
export function listProblems(header: string, problems: readonly Problem[]): string {
  return [header, ...problems.map((p) => `  ${p.path || "(root)"}: ${p.message}`)].join("\n");
}
