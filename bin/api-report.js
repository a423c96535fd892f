#!/usr/bin/env node
// The API report (`npm run api-report`, part of `npm test`): the public surface of each package entry
// ("jetbus", "jetbus/errors", "jetbus/di") as api-extractor sees it in the compiled declarations,
// compared with the checked-in api/<entry>.api.md. A change to what users can import fails
// here until `npm run api-report -- --update` writes the new report, so the diff shows up in review.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Extractor, ExtractorConfig } from "@microsoft/api-extractor";

const root = fileURLToPath(new URL("..", import.meta.url));
const update = process.argv.includes("--update");
// the entries of package.json "exports", by report name
const ENTRIES = { jetbus: "runtime/mod", "jetbus-errors": "runtime/errors", "jetbus-di": "runtime/di" };

const out = mkdtempSync(join(tmpdir(), "jetbus-api-"));
let failed = false;
try {
  // declarations only, as `npm run build` emits them beside dist/
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const built = spawnSync(
    process.execPath,
    [tsc, "-p", "tsconfig.build.json", "--emitDeclarationOnly", "--outDir", join(out, "dts"), "--pretty", "false"],
    { cwd: root, stdio: "inherit" },
  );
  if (built.status !== 0) process.exit(built.status ?? 1);

  for (const [name, entry] of Object.entries(ENTRIES)) {
    const config = ExtractorConfig.prepare({
      configObject: {
        projectFolder: root,
        mainEntryPointFilePath: join(out, "dts", `${entry}.d.ts`),
        compiler: { tsconfigFilePath: join(root, "tsconfig.json") },
        apiReport: { enabled: true, reportFileName: name, reportFolder: join(root, "api"), reportTempFolder: join(out, "report") },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          // the report is about the surface; missing release tags and doc-comment syntax are not checked
          extractorMessageReporting: { default: { logLevel: "none" }, "ae-missing-release-tag": { logLevel: "none" } },
          tsdocMessageReporting: { default: { logLevel: "none" } },
          compilerMessageReporting: { default: { logLevel: "warning" } },
        },
      },
      configObjectFullPath: undefined,
      packageJsonFullPath: join(root, "package.json"),
    });
    const result = Extractor.invoke(config, { localBuild: update, showVerboseMessages: false });
    if (!result.succeeded) {
      failed = true;
      process.stdout.write(
        `api-report: ${name} (${entry}.ts) differs from api/${name}.api.md: ` +
          "the public surface changed. Review it, then `npm run api-report -- --update`.\n",
      );
    } else process.stdout.write(`api-report: ${name} ${update && result.apiReportChanged ? "updated" : "unchanged"}\n`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
