import type { HandlerFn } from "../types.ts";

/** Wraps a handler: `(next) => handler`. Resolving acks, throwing fails, as for any handler. */
export type Middleware = (next: HandlerFn) => HandlerFn;
