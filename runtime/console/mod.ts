export { createConsoleHandler, type ConsoleHandler, type ConsoleHandlerOptions } from "./handler.ts";
export { serveConsole, type ConsoleServer } from "./serve.ts";
export { consoleToken, checkAdmin, CONSOLE_TOKEN_ENV } from "./auth.ts";
export type { ConsoleDeps } from "./context.ts";
export { buildFlowGraph, type FlowGraph } from "./flows.ts";
export { loadAssets, assetBytes } from "./assets.ts";
