import type { Command } from "commander";
import { startRuntime } from "../../app/bootstrap.ts";
import { NotFoundError, UsageError } from "../../errors.ts";
import { openPresenceBucket } from "../../presence/heartbeat.ts";
import { EventSchemas } from "../../store/schemas.ts";
import { loadProjections, startProjections } from "../../projection/start.ts";
import { rebuildProjection } from "../../projection/rebuild.ts";
import { ProjectionReader } from "../../projection/reader.ts";
import { projectionStatuses, renderProjectionStatus } from "../../projection/status.ts";
import { readinessGate } from "../../observability/health.ts";
import { serveObservability, type ObservabilityServer } from "../../observability/http.ts";
import { stopUnlessUnreachable } from "../../app/shutdown.ts";
import { createProgress } from "../progress.ts";
import { allOptions, durabilityModeOf, withCommonOptions, withRuntime, withStrictOption, type CommonOptions } from "../options.ts";
import { untilSignal } from "./up.ts";

const show = (v: unknown) => JSON.stringify(v);

function versionOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(v)) throw new UsageError(`--model-version must be a whole number >= 1, got ${JSON.stringify(v)}`);
  return Number(v);
}

export function registerProjection(program: Command): void {
  const projection = program
    .command("projection")
    .description("read models built from the store (projections[] of the config): run, rebuild, read, status");

  withStrictOption(
    withCommonOptions(projection.command("run").argument("[names...]", "projections to run (default: every configured one)")),
  )
    .description("keep projections up to date until SIGTERM/SIGINT (jetbus up runs them all too); any number of such processes may run")
    .option("--no-http", "do not serve /metrics, /healthz and /readyz on observability.http_port")
    .addHelpText("after", "\nExamples:\n  jetbus projection run\n  jetbus projection run balances --servers nats://n1:4222\n")
    .action(async function (this: Command, names: string[]) {
      const o = allOptions<CommonOptions & { http?: boolean; strict?: boolean }>(this);
      const rt = await startRuntime({
        configPath: o.config,
        servers: o.servers,
        name: "jetbus-projection",
        durability: durabilityModeOf(o),
        waitForServer: true,
      });
      const ready = readinessGate(rt.health, "projections");
      let http: ObservabilityServer | undefined;
      try {
        if (rt.config.projections.length === 0) throw new UsageError("the config has no projections[] to run");
        http =
          o.http === false
            ? undefined
            : await serveObservability(rt.metrics, rt.health, rt.config.observability.http_port, rt.config.observability.http_host);
        const running = await startProjections(rt, names);
        const signalled = untilSignal();
        ready.open();
        rt.logger.info(
          { projections: running.projections.map((p) => p.name), http: http ? `:${http.port}` : undefined },
          "projections running; SIGTERM or Ctrl-C stops them",
        );
        await signalled;
        ready.close();
        await stopUnlessUnreachable(rt, () => running.stop());
      } finally {
        await http?.close();
        await rt.dispose();
      }
    });

  withCommonOptions(projection.command("rebuild").argument("<name>", "a configured projection"))
    .description("rebuild a projection from the store into a new version, then switch readers and live runners to it once it has caught up")
    .addHelpText("after", "\nExample:\n  jetbus projection rebuild balances\n")
    .action(async function (this: Command, name: string) {
      const o = allOptions<CommonOptions>(this);
      await withRuntime(
        o,
        async (rt) => {
          const [loaded] = await loadProjections(rt, [name]);
          const progress = createProgress(`rebuilding ${name}`);
          try {
            const r = await rebuildProjection({
              nc: rt.nc,
              stream: rt.config.store.stream,
              replicas: rt.config.store.replicas,
              loaded: loaded!,
              schemas: new EventSchemas(),
              logger: rt.logger,
              presence: () => openPresenceBucket(rt.nc, rt.config.store.replicas),
              onProgress: (p) => progress.update(p.applied, p.applied + p.pending),
            });
            progress.done();
            if (o.json) process.stdout.write(show(r) + "\n");
            else
              process.stdout.write(
                `rebuilt ${name} as version ${r.version} from ${r.events} events in ${r.seconds.toFixed(1)} s (store sequence ${r.position}); ` +
                  `readers switched from version ${r.previous}` +
                  (r.handedOver
                    ? "; a live runner took it over"
                    : "; no live runner took it over yet (start `jetbus up` or `jetbus projection run`)") +
                  (r.removed.length ? `; removed version ${r.removed.join(", ")}` : "") +
                  "\n",
              );
          } finally {
            progress.done();
          }
        },
        "jetbus-projection-rebuild",
      );
    });

  withCommonOptions(projection.command("get").argument("<name>").argument("<key>"))
    .description("one key of a projection's read model: its state and the last event applied to it (exit 1 when the key holds none)")
    .option("--model-version <n>", "read this version of the read model instead of the one readers use")
    .addHelpText("after", "\nExample:\n  jetbus projection get balances acct-42\n")
    .action(async function (this: Command, name: string, key: string) {
      const o = allOptions<CommonOptions & { modelVersion?: string }>(this);
      await withRuntime(
        o,
        async (rt) => {
          const reader = await ProjectionReader.open(rt.nc, name, { follow: false, version: versionOf(o.modelVersion) });
          const e = await reader.get(key);
          if (!e) throw new NotFoundError(`projection "${name}" (version ${reader.version}) holds no state for key ${show(key)}`);
          process.stdout.write(
            o.json
              ? show({ projection: name, version: reader.version, ...e }) + "\n"
              : `${show(e.value)}\n(version ${reader.version}, store sequence ${e.seq}${e.eventId ? `, event ${e.eventId}` : ""})\n`,
          );
        },
        "jetbus-projection",
        false,
      );
    });

  withCommonOptions(projection.command("list").argument("<name>"))
    .description("every key of a projection's read model with its state (one ordered consumer over its bucket)")
    .option("--model-version <n>", "read this version of the read model instead of the one readers use")
    .addHelpText("after", "\nExample:\n  jetbus projection list balances --json\n")
    .action(async function (this: Command, name: string) {
      const o = allOptions<CommonOptions & { modelVersion?: string }>(this);
      await withRuntime(
        o,
        async (rt) => {
          const reader = await ProjectionReader.open(rt.nc, name, { follow: false, version: versionOf(o.modelVersion) });
          const list = await reader.list();
          if (o.json) for (const e of list) process.stdout.write(show({ projection: name, version: reader.version, ...e }) + "\n");
          else if (list.length === 0) process.stdout.write(`projection "${name}" (version ${reader.version}) holds no keys\n`);
          else for (const e of list) process.stdout.write(`${e.key}  ${show(e.value)}\n`);
        },
        "jetbus-projection",
        false,
      );
    });

  withCommonOptions(projection.command("status").argument("[names...]", "projections (default: every configured or started one)"))
    .description("each projection's version, position, lag (events stored after its position), live runners, and a stall with its event")
    .addHelpText("after", "\nExamples:\n  jetbus projection status\n  jetbus projection status balances --json\n")
    .action(async function (this: Command, names: string[]) {
      const o = allOptions<CommonOptions>(this);
      await withRuntime(
        o,
        async (rt) => {
          const list = await projectionStatuses(rt.nc, rt.config, names);
          if (o.json) for (const p of list) process.stdout.write(show(p) + "\n");
          else process.stdout.write(renderProjectionStatus(list));
        },
        "jetbus-projection",
        false,
      );
    });
}
