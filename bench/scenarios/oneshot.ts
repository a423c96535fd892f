import { spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { NatsServer } from "../../runtime/nats/server.ts";
import { percentile, type Comparison, type Scenario } from "../harness.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** Wall time of one process from spawn to exit, in ms; fails loudly if the command fails. */
function wallMs(args: readonly string[]): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NATS_URL: "", JETBUS_LOG_LEVEL: "warn" },
  });
  const ms = performance.now() - start;
  if (r.status !== 0 || !r.stdout.includes("UserCreated"))
    throw new Error(`${args.join(" ")} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return ms;
}

const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );

/**
 * One-shot command cost: `jetbus history --limit 1` as the installed package runs it (compiled
 * dist/, built first so it is the current code) and as a checkout runs it (sources through tsx),
 * against a bare @nats-io script doing the same read. Rounds alternate the three so load changes
 * on the machine hit each alike; the figures are median wall times, and the label of the compiled
 * row adds the median of each round's compiled/raw ratio (a pair run seconds apart sees the same
 * load, which a ratio of medians over a shared, drifting machine does not). Args: [ROUNDS=15].
 */
const scenario: Scenario = {
  name: "oneshot",
  description:
    "wall time of `jetbus history --limit 1` (compiled; and from source via tsx) vs a bare @nats-io client script doing the same read",
  async run(args) {
    const rounds = Number(args[0] ?? 15);
    const build = spawnSync("npm", ["run", "build", "--silent"], { cwd: root, encoding: "utf8" });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    const server = await NatsServer.start();
    const load = () =>
      loadavg()
        .map((l) => l.toFixed(1))
        .join(" ");
    try {
      const probe = await connect({ servers: server.url });
      process.stderr.write(`nats-server ${probe.info?.version}; load average at start ${load()}\n`);
      await probe.close();
      const servers = ["--servers", server.url];
      const store = spawnSync(process.execPath, ["dist/runtime/cli/main.js", "store", "apply", "--yes", ...servers], {
        cwd: root,
        encoding: "utf8",
      });
      if (store.status !== 0) throw new Error(`store apply failed:\n${store.stderr}`);
      const seed = spawnSync(
        process.execPath,
        ["dist/runtime/cli/main.js", "pub", "UserCreated", '{"user_id":"u1","username":"ada","email":"ada@example.com"}', ...servers],
        { cwd: root, encoding: "utf8" },
      );
      if (seed.status !== 0) throw new Error(`seeding failed:\n${seed.stderr}`);
      const compiled: number[] = [],
        source: number[] = [],
        raw: number[] = [];
      wallMs(["dist/runtime/cli/main.js", "history", "--limit", "1", ...servers]); // warm the file cache once
      for (let i = 0; i < rounds; i++) {
        compiled.push(wallMs(["dist/runtime/cli/main.js", "history", "--limit", "1", ...servers]));
        raw.push(wallMs(["bench/processes/raw-history.mjs", server.url]));
        source.push(wallMs(["--import", "tsx", "runtime/cli/main.ts", "history", "--limit", "1", ...servers]));
      }
      process.stderr.write(`load average at end ${load()}\n`);
      const paired = median(compiled.map((c, i) => c / raw[i]!));
      const rows: Comparison[] = [
        {
          metric: `history --limit 1, compiled (median of ${rounds}; per-round ratio ${paired.toFixed(2)}x)`,
          unit: "ms",
          jetbus: median(compiled),
          raw: median(raw),
          higherIsBetter: false,
          target: "<= 2x",
        },
        {
          metric: `history --limit 1, sources via tsx (median of ${rounds})`,
          unit: "ms",
          jetbus: median(source),
          raw: median(raw),
          higherIsBetter: false,
        },
      ];
      return rows;
    } finally {
      await server.stop();
    }
  },
};
export default scenario;
