import type { Command } from "commander";
import { jetstreamManager } from "@nats-io/jetstream";
import { buildStatusReport, renderStatus } from "../../operations/status.ts";
import { gatherStatusFacts } from "../../operations/status-facts.ts";
import { liveConfig } from "../../operations/live-config.ts";
import { allOptions, withCommonOptions, withRuntime, type CommonOptions } from "../options.ts";

const WATCH_EVERY_MS = 2000;

/** Resolves on the first Ctrl-C / SIGTERM; `stop()` removes the listeners. */
function interrupted(): { promise: Promise<void>; stop(): void } {
  let stop = () => {};
  const promise = new Promise<void>((resolve) => {
    const on = () => resolve();
    process.once("SIGINT", on);
    process.once("SIGTERM", on);
    stop = () => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
    };
  });
  return { promise, stop };
}

export function registerStatus(program: Command): void {
  withCommonOptions(program.command("status"))
    .description("actors (live replicas, lag, in-flight, redeliveries, DLQ), router replicas and config revision, indexer lag, store size")
    .option("-w, --watch", `refresh every ${WATCH_EVERY_MS / 1000}s until Ctrl-C`)
    .action(async function (this: Command) {
      const o = allOptions<CommonOptions & { watch?: boolean }>(this);
      await withRuntime(
        o,
        async (rt) => {
          const jsm = await jetstreamManager(rt.nc);
          const show = async () => {
            // the actors the running routers use (KV jetbus-config), so status works without the config file
            const live = await liveConfig(jsm, rt.config, { localWhenNoAnswer: true });
            const report = buildStatusReport(await gatherStatusFacts(rt.nc, jsm, live.config));
            if (o.json) process.stdout.write(JSON.stringify(report) + "\n");
            else process.stdout.write((o.watch && process.stdout.isTTY ? "\x1b[2J\x1b[H" : "") + renderStatus(report));
          };
          await show();
          if (!o.watch) return;
          const stop = interrupted();
          try {
            for (;;) {
              let timer: NodeJS.Timeout | undefined;
              const tick = new Promise<"tick">((r) => (timer = setTimeout(() => r("tick"), WATCH_EVERY_MS)));
              const why = await Promise.race([tick, stop.promise.then(() => "stop" as const)]);
              clearTimeout(timer);
              if (why === "stop") return;
              await show();
            }
          } finally {
            stop.stop();
          }
        },
        "jetbus-status",
      );
    });
}
