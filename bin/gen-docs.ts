// Writes the generated references: docs/reference/cli.md from the commander program and the error
// codes, docs/reference/config.md from the config's JSON Schemas. `npm run gen:docs` writes them;
// test/unit/docs-reference.unit.test.ts fails when a committed file differs from what this renders.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildProgram } from "../runtime/cli/program.ts";
import { renderCliReference } from "./docs/cli-reference.ts";
import { renderConfigReference } from "./docs/config-reference.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Each generated file (relative to the repository) and how to render it now. */
export const GENERATED: ReadonlyArray<Readonly<{ file: string; render: () => string }>> = [
  { file: join("docs", "reference", "cli.md"), render: () => renderCliReference(buildProgram(), ROOT) },
  { file: join("docs", "reference", "config.md"), render: () => renderConfigReference(join(ROOT, "schemas")) },
];

export const REGENERATE = "npm run gen:docs";

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const g of GENERATED) {
    const path = join(ROOT, g.file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, g.render());
    process.stdout.write(`wrote ${g.file}\n`);
  }
}
