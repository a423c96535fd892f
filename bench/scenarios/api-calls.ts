import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { NatsServer } from "../../runtime/nats/server.ts";
import type { Comparison, Scenario } from "../harness.ts";
import { countJsApiCalls } from "../js-api-calls.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Runs node with `args` in the repo; fails loudly unless it exits 0 and prints `expect`. */
function run(args: readonly string[], expect?: string): Promise<void> {
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NATS_URL: "", JETBUS_LOG_LEVEL: "warn" },
  });
  if (r.status !== 0 || (expect !== undefined && !r.stdout.includes(expect)))
    return Promise.reject(new Error(`${args.join(" ")} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`));
  return Promise.resolve();
}

/**
 * Server operations of a one-shot command: the JetStream API requests `jetbus history --limit 1`
 * makes (from the sources, through tsx: the count does not depend on compiling) against those of
 * a bare @nats-io script doing the same read (bench/processes/raw-history.mjs: one direct get),
 * on a fresh server holding one event. Counted with a subscription on `$JS.API.>`
 * (bench/js-api-calls.ts). Issue 23: `history` asks the server once.
 *
 * Usage: api-calls [JETBUS ARGS...]   (default: history --limit 1; e.g. `api-calls get ID`)
 */
const scenario: Scenario = {
  name: "api-calls",
  description: "JetStream API requests of `jetbus history --limit 1` (or another one-shot command) vs the bare client's same read",
  async run(args) {
    const command = args.length > 0 ? args : ["history", "--limit", "1"];
    const server = await NatsServer.start({ serverName: "api-calls" });
    try {
      const probe = await connect({ servers: server.url });
      process.stderr.write(`nats-server ${probe.info?.version}\n`);
      await probe.close();
      const servers = ["--servers", server.url];
      const cli = ["--import", "tsx", "runtime/cli/main.ts"];
      await run([...cli, "store", "apply", "--yes", ...servers]);
      await run([...cli, "pub", "UserCreated", '{"user_id":"u1","username":"ada","email":"ada@example.com"}', ...servers]);
      const jetbus = await countJsApiCalls(server.url, () => run([...cli, ...command, ...servers], "UserCreated"));
      const raw = await countJsApiCalls(server.url, () => run(["bench/processes/raw-history.mjs", server.url], "UserCreated"));
      process.stderr.write(`jetbus ${command.join(" ")}: ${jetbus.summary}\nbare client (raw-history.mjs): ${raw.summary}\n`);
      // `$JS.API.INFO` is the client's check that JetStream is there (jetstreamManager()'s default
      // checkAPI), made by the bare script too; the second row leaves it out
      const beyondCheck = (c: typeof jetbus) => c.total - (c.bySubject.get("INFO") ?? 0);
      const asksOnce = command.join(" ") === "history --limit 1";
      return [
        {
          metric: `JetStream API requests, ${command.join(" ")}`,
          unit: "requests",
          jetbus: jetbus.total,
          raw: raw.total,
          higherIsBetter: false,
        },
        {
          metric: `same, without the client's API check (INFO)`,
          unit: "requests",
          jetbus: beyondCheck(jetbus),
          raw: beyondCheck(raw),
          higherIsBetter: false,
          target: asksOnce ? "<= 1x (asks once)" : undefined,
        },
      ] satisfies Comparison[];
    } finally {
      await server.stop();
    }
  },
};
export default scenario;
