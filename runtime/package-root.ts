import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The directory of jetbus's own package.json: the repository root when run from source
 * (runtime/*.ts), the installed package when run compiled (dist/runtime/*.js sits one level
 * deeper). Files shipped with the package (the config schemas) are found from here, never
 * from the working directory, which is the user's project.
 */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`jetbus: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();
