// How far the workload got, from its files (read incrementally): distinct events acked, and per
// actor the distinct events handled and the acked ones not handled yet.
import { closeSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { ACTORS } from "./workload-config.ts";
import { sleep } from "./faults.ts";

export type Progress = { acked: number; handled: Record<string, number>; pending: Record<string, number> };

class Tail {
  private offset = 0;
  private rest = "";
  constructor(private readonly file: string) {}
  /** New complete lines since the last call. */
  lines(): string[] {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch {
      return [];
    }
    if (size <= this.offset) return [];
    const buf = Buffer.alloc(size - this.offset);
    const fd = openSync(this.file, "r");
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const parts = (this.rest + buf.toString("utf8")).split("\n");
    this.rest = parts.pop()!;
    return parts.filter(Boolean);
  }
}

/**
 * Polls the run's files every second until `done` holds (ok), `timeoutMs` passes, or (with
 * `stallMs`) no new handling was seen for that long.
 */
export async function progress(
  dir: string,
  timeoutMs: number,
  done: (p: Progress) => boolean,
  stallMs = Infinity,
): Promise<{ ok: boolean; last: Progress }> {
  let lastHandled = -1;
  let lastChange = Date.now();
  const acked = new Set<string>();
  const handled = new Map<string, Set<string>>(ACTORS.map((a) => [a, new Set<string>()]));
  const tails = new Map<string, Tail>();
  const ackTail = new Tail(join(dir, "acked.jsonl"));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const l of ackTail.lines()) acked.add((JSON.parse(l) as { id: string }).id);
    for (const f of readdirSync(dir).filter((f) => f.startsWith("effects-"))) {
      if (!tails.has(f)) tails.set(f, new Tail(join(dir, f)));
      for (const l of tails.get(f)!.lines()) {
        const e = JSON.parse(l) as { actor: string; id: string };
        handled.get(e.actor)?.add(e.id);
      }
    }
    const p: Progress = { acked: acked.size, handled: {}, pending: {} };
    for (const [a, ids] of handled) {
      p.handled[a] = ids.size;
      let pending = 0;
      for (const id of acked) if (!ids.has(id)) pending++;
      p.pending[a] = pending;
    }
    if (done(p)) return { ok: true, last: p };
    const total = Object.values(p.handled).reduce((a, b) => a + b, 0);
    if (total !== lastHandled) ((lastHandled = total), (lastChange = Date.now()));
    if (Date.now() > deadline || Date.now() - lastChange > stallMs) return { ok: false, last: p };
    await sleep(1000);
  }
}
