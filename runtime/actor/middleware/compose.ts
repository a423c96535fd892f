import type { HandlerFn } from "../types.ts";
import type { Middleware, Policy, Step } from "./types.ts";

/** The handler wrapped by each middleware in turn: the first listed is the outermost. */
export function compose(handler: HandlerFn, ...middleware: readonly Middleware[]): HandlerFn {
  return middleware.reduceRight<HandlerFn>((next, wrap) => wrap(next), handler);
}

/** The innermost step wrapped by each policy in turn: the first listed is the outermost. */
export function composePolicies(inner: Step, ...policies: readonly Policy[]): Step {
  return policies.reduceRight<Step>((next, wrap) => wrap(next), inner);
}
