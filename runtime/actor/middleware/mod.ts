export type { Middleware } from "./types.ts";
export { compose } from "./compose.ts";
export { timeout } from "./timeout.ts";
