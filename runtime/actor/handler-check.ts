import type { ActorSettings } from "../config/types.ts";
import type { Problem } from "../errors.ts";
import { didYouMean } from "../suggest.ts";
import { registeredHandlers } from "./registry.ts";

/**
 * Every actor without a `module` names a handler that is registered (its `handler`, else its own
 * name): `up` would otherwise start the other actors and then fail on this one. Register the
 * handlers first (the app layer's built-in ones, or your own).
 */
export function checkRegisteredHandlers(actors: readonly Partial<ActorSettings>[]): Problem[] {
  const known = registeredHandlers();
  const problems: Problem[] = [];
  actors.forEach((a, i) => {
    if (a.module !== undefined || typeof a.name !== "string") return;
    const name = a.handler ?? a.name;
    if (known.includes(name)) return;
    const where = a.handler !== undefined ? `actors[${i}].handler` : `actors[${i}].name`;
    const what =
      a.handler !== undefined
        ? `no handler registered as "${name}"`
        : `no handler registered under the actor's name "${name}" (set "handler", or "module" for a file of yours)`;
    problems.push({ path: where, message: `${what}; registered: ${known.join(", ") || "none"}${didYouMean(name, known)}` });
  });
  return problems;
}
