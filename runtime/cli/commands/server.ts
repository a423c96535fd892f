import type { Command } from "commander";
import { findNatsServer, natsServerVersion } from "../../nats/binary.ts";
import { formatVersion, NATS_SERVER_FLOOR } from "../../nats/version.ts";

export function registerServer(program: Command): void {
  program
    .command("server")
    .description(
      `find the nats-server jetbus starts (${formatVersion(NATS_SERVER_FLOOR)} or later), installing Debian's current package into .jetbus/bin when none is found; prints its path and version`,
    )
    .option("--json", "print one JSON document")
    .addHelpText("after", "\nExample:\n  jetbus server        # /work/app/.jetbus/bin/nats-server 2.15.1\n")
    .action((o: { json?: boolean }) => {
      const path = findNatsServer();
      const version = formatVersion(natsServerVersion(path));
      process.stdout.write(o.json ? JSON.stringify({ path, version }) + "\n" : `${path} ${version}\n`);
    });
}
