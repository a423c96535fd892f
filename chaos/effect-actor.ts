// The chaos workload's handler: its only effect is one JSON line per handling, appended to a file
// of its own process (outside the system under test): event id, key, store sequence, process,
// time. `jetbus check` reads these files. JETBUS_CHAOS_DIR names the directory.
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { defineActor } from "../runtime/actor/define.ts";

const dir = process.env.JETBUS_CHAOS_DIR;
if (!dir) throw new Error("JETBUS_CHAOS_DIR is not set");

export default defineActor<{ n: number; key: string }>({
  handle(event, ctx) {
    // wall-clock with sub-millisecond precision, comparable across processes on one machine
    const at = performance.timeOrigin + performance.now();
    const effect = {
      actor: ctx.actor,
      id: event.id,
      key: event.data.key,
      n: event.data.n,
      seq: ctx.originSeq,
      inbox_seq: ctx.streamSeq,
      attempt: ctx.deliveryCount,
      pid: process.pid,
      at,
    };
    appendFileSync(join(dir, `effects-${ctx.actor}-${process.pid}.jsonl`), JSON.stringify(effect) + "\n");
  },
});
