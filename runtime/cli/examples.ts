import type { Command } from "commander";

/**
 * Examples shown under each command's --help, kept in one place so every command has some
 * (test/e2e/cli-help.e2e.test.ts checks that every runnable command shows an example).
 * Commands that define their own examples beside their options are not listed here.
 */
const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  init: ["jetbus init                    # jetbus.config.json, an actor module and a schema in this directory"],
  "new actor": ["jetbus new actor order-audit --type OrderPlaced"],
  types: ["jetbus types"],
  demo: ["jetbus demo", "jetbus demo --servers nats://127.0.0.1:4222 --timeout 2m --json"],
  up: ["jetbus up", "jetbus up --config prod.json --strict --servers nats://n1:4222,nats://n2:4222"],
  "config validate": ["jetbus config validate jetbus.config.json", "jetbus config validate broken.json --json"],
  "config apply": ["jetbus config apply jetbus.config.json   # routers switch between two events"],
  "config show": ["jetbus config show", "jetbus config show --revision 3 --json"],
  "config history": ["jetbus config history"],
  "config rollback": ["jetbus config rollback 3"],
  router: ["jetbus router -r 2", "jetbus router --no-indexer --max-in-flight 256"],
  "route test": ["jetbus route test jetbus.config.json event.json"],
  pub: [
    'jetbus pub UserCreated \'{"user_id":"u1"}\' --correlation-id signup-9',
    'jetbus pub UserCreated \'{"user_id":"u1"}\' --id evt-42 --source shell',
  ],
  history: ["jetbus history --type UserCreated --since 2h", "jetbus history --correlation-id signup-9 --json"],
  "index status": ["jetbus index status"],
  "index rebuild": ["jetbus index rebuild"],
  "store apply": ["jetbus store apply", "jetbus store apply --allow-data-loss"],
  status: ["jetbus status", "jetbus status --watch", "jetbus status --json"],
  trace: ["jetbus trace signup-9", "jetbus trace signup-9 --json"],
  replay: ["jetbus replay email-handler --from 2h", "jetbus replay email-handler --from 1200 --to 1300"],
  "cluster up": ["jetbus cluster up --detach --routers 1 --actors email-handler:2,user-handler-1"],
  "cluster down": ["jetbus cluster down --purge"],
  "cluster restart": ["jetbus cluster restart nats-2   # after kill -9 of that node"],
  "cluster durability": ["jetbus cluster durability --json"],
  "cluster accounts": ["jetbus cluster accounts"],
  actor: ["jetbus actor email-handler -r 4 --grace 1m", "jetbus actor email-handler --strict --no-http"],
  "dlq list": ["jetbus dlq list --actor email-handler"],
  "dlq replay": ["jetbus dlq replay evt-42", "jetbus dlq replay --actor email-handler"],
  "quarantine list": ["jetbus quarantine list --type UserCreated --since 1h --json"],
  "quarantine show": ["jetbus quarantine show 12"],
  "quarantine replay": [
    "jetbus quarantine replay 12 13          # after fixing schemas/events/<Type>.json",
    "jetbus quarantine replay --type UserCreated --since 1h --force",
  ],
  "unrouted list": ["jetbus unrouted list --type OrderPlaced"],
  "unrouted replay": ["jetbus unrouted replay --all"],
  console: ["jetbus console"],
};

function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Adds the examples above to the help of every command of the tree that has some listed. */
export function addExamples(program: Command): void {
  const visit = (cmd: Command) => {
    const lines = EXAMPLES[pathOf(cmd)];
    if (lines) cmd.addHelpText("after", `\nExample${lines.length > 1 ? "s" : ""}:\n${lines.map((l) => `  ${l}`).join("\n")}\n`);
    cmd.commands.forEach(visit);
  };
  program.commands.forEach(visit);
}
