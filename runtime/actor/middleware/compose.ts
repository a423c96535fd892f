import type { HandlerFn } from "../types.ts";
import type { Middleware } from "./types.ts";

/** The handler wrapped by each middleware in turn: the first listed is the outermost. */
export function compose(handler: HandlerFn, ...middleware: readonly Middleware[]): HandlerFn {
  return middleware.reduceRight<HandlerFn>((next, wrap) => wrap(next), handler);
}
