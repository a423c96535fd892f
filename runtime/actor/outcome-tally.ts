import { TallyKeys, type Tally } from "../presence/tally.ts";
import type { Outcome } from "./middleware/types.ts";

/**
 * Counts one settled delivery into the replica's heartbeat tally, the way the handling metrics
 * count it: a handler run that ended well is handled, one that threw is a failed attempt.
 */
export function tallyOutcome(tally: Tally, out: Outcome): void {
  if (out.kind === "ack" && out.result === "handled") tally.add(TallyKeys.handled);
  else if ("ran" in out && out.ran && out.error !== undefined) tally.add(TallyKeys.failed);
}
