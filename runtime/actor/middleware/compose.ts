import type { HandlerFn } from "../types.ts";
import type { Middleware, Outcome, Policy, Step } from "./types.ts";

/** The handler wrapped by each middleware in turn: the first listed is the outermost. */
export function compose(handler: HandlerFn, ...middleware: readonly Middleware[]): HandlerFn {
  return middleware.reduceRight<HandlerFn>((next, wrap) => wrap(next), handler);
}

// policies of any stages, once the chain has checked how they fit
type AnyPolicy = Policy<never, never, never, never>;

/**
 * Policies listed outermost first, each checked by tsc against the one before: a policy must take
 * the stage the previous one hands on and answer what the previous one expects from its rest.
 * `In`/`O`: what the whole chain takes and answers; `Cur`/`OCur`: what the next policy must take
 * and answer.
 */
export class Chain<In, O extends Outcome, Cur, OCur extends Outcome> {
  private constructor(private readonly policies: readonly AnyPolicy[]) {}

  /** An empty chain taking `H` and answering `R`. */
  static of<H, R extends Outcome>(): Chain<H, R, H, R> {
    return new Chain<H, R, H, R>([]);
  }

  then<Next, ONext extends Outcome>(p: Policy<Cur, Next, ONext, OCur>): Chain<In, O, Next, ONext> {
    return new Chain<In, O, Next, ONext>([...this.policies, p as unknown as AnyPolicy]);
  }

  /** `p` unless it is undefined: a policy that does not change the stage, and that a setting may leave out. */
  maybe(p: Policy<Cur, Cur, OCur, OCur> | undefined): Chain<In, O, Cur, OCur> {
    return p ? this.then(p) : this;
  }

  /** The chain around its innermost step. */
  end(inner: Step<Cur, OCur>): Step<In, O> {
    type Wrap = (next: Step<unknown, Outcome>) => Step<unknown, Outcome>;
    const wrapped = (this.policies as unknown as Wrap[]).reduceRight<Step<unknown, Outcome>>(
      (next, wrap) => wrap(next),
      inner as Step<unknown, Outcome>,
    );
    return wrapped as Step<In, O>;
  }
}
