import { EventVersionError } from "../../errors.ts";
import type { Event } from "../types.ts";
import { chains } from "./registry.ts";

/**
 * The decode hook: an event older than its type's latest version, brought up to it through its
 * upcasters (N -> N+1, one step at a time); any other event is returned as it is, unchanged and
 * uncopied. With no upcasters registered that is one Map.size read per event, and a latest
 * event costs one Map lookup: the hot path pays nothing else.
 * An event of a version no upcaster starts from, or one whose upcaster throws, is an EventVersionError.
 */
export function upcast<E extends Event>(event: E): E {
  if (chains.size === 0) return event;
  const chain = chains.get(event.type);
  if (chain === undefined || event.dataversion >= chain.latest) return event;
  if (event.dataversion < chain.first)
    throw new EventVersionError(
      event.type,
      event.dataversion,
      `no upcaster from version ${event.dataversion} (the upcasters of ${event.type} start at version ${chain.first})`,
    );
  let data: unknown = event.data;
  for (let v = event.dataversion; v < chain.latest; v++) {
    try {
      data = chain.steps[v - chain.first]!(data, { ...event, data, dataversion: v });
    } catch (err) {
      throw new EventVersionError(
        event.type,
        event.dataversion,
        `the upcaster from version ${v} threw: ${(err as Error)?.message ?? String(err)}`,
        err,
      );
    }
  }
  return { ...event, data, dataversion: chain.latest };
}
