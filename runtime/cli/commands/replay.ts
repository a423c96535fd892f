import type { Command } from "commander";
import { jetstreamManager } from "@nats-io/jetstream";
import { UsageError } from "../../errors.ts";
import { ensureInbox } from "../../actor/inbox.ts";
import { checkRange, parseReplayPoint } from "../../operations/replay-range.ts";
import { liveConfig } from "../../operations/live-config.ts";
import { replayToActor, type ReplaySummary } from "../../operations/replay.ts";
import { replayTargetFor } from "../../operations/replay-target.ts";
import { allOptions, withCommonOptions, withRuntime, type CommonOptions } from "../options.ts";
import { createProgress } from "../progress.ts";

type ReplayFlags = CommonOptions & { from?: string; to?: string; all?: boolean; runId?: string };

function summaryText(s: ReplaySummary): string {
  const range = s.firstSeq === undefined ? "no events in range" : `seq ${s.firstSeq}..${s.lastSeq}`;
  const dup = s.duplicates ? ` (${s.duplicates} already sent by this run id)` : "";
  const bad = s.malformed ? `, ${s.malformed} undecodable skipped` : "";
  return `replay ${s.runId}: ${s.replayed} event(s) sent to ${s.actor}${dup}, ${s.skipped} not routed to it${bad}; scanned ${s.scanned} (${range})\n`;
}

export function registerReplay(program: Command): void {
  withCommonOptions(program.command("replay").argument("<actor>", "the one actor to redeliver history to"))
    .description("redeliver stored history to ONE actor's inbox (time travel for projections); other actors are untouched")
    .requiredOption("--from <seq|time>", "first store sequence (1200), time (2026-01-31T12:00:00Z) or duration ago (15m, 2h, 7d)")
    .option("--to <seq|time>", "last store sequence or time, inclusive (default: the end of the store when the replay starts)")
    .option("--all", "send every event in range, ignoring the routing rules")
    .option(
      "--run-id <id>",
      "replay run id (default: generated); re-running with the same id within the inbox duplicate window sends nothing twice",
    )
    .action(async function (this: Command, actor: string) {
      const o = allOptions<ReplayFlags>(this);
      const from = parseReplayPoint(o.from ?? "", "--from");
      const to = o.to !== undefined ? parseReplayPoint(o.to, "--to") : undefined;
      checkRange(from, to);
      if (o.runId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(o.runId))
        throw new UsageError(`--run-id ${JSON.stringify(o.runId)}: use 1-64 letters, digits, "_" or "-"`);
      await withRuntime(
        o,
        async (rt) => {
          const jsm = await jetstreamManager(rt.nc);
          // "the current rules" are the ones the running routers use: KV jetbus-config, else the local file
          const live = await liveConfig(jsm, rt.config);
          const target = replayTargetFor(live.config, actor, { all: o.all, revision: live.revision ?? 0 });
          const progress = createProgress(`replaying to ${actor}`);
          let summary: ReplaySummary;
          try {
            summary = await replayToActor(rt.nc, jsm, target, {
              storeStream: rt.config.store.stream,
              from,
              ...(to ? { to } : {}),
              ...(o.runId ? { runId: o.runId } : {}),
              onProgress: (done, total) => progress.update(done, total),
              ensureInbox: () => ensureInbox(jsm, live.config),
            });
          } finally {
            progress.done();
          }
          process.stdout.write(o.json ? JSON.stringify(summary) + "\n" : summaryText(summary));
        },
        "jetbus-replay",
      );
    });
}
