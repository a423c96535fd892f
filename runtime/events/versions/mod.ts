export {
  defineUpcasters,
  isUpcasterDefinition,
  upcasterProblems,
  type Upcaster,
  type UpcasterDefinition,
  type UpcasterTable,
  type VersionChain,
} from "./upcasters.ts";
export { clearUpcasters, latestVersionOf, useUpcasters } from "./registry.ts";
export { upcast } from "./upcast.ts";
