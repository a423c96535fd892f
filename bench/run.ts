import "reflect-metadata";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { formatReport, type Scenario } from "./harness.ts";

const dir = fileURLToPath(new URL("./scenarios/", import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.replace(/\.ts$/, ""))
  .sort();
const [name, ...args] = process.argv.slice(2);

if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- NAME [args]\nscenarios: ${available.join(", ")}\n`);
  process.exit(name ? 2 : 0);
}

const scenario = (await import(`./scenarios/${name}.ts`)).default as Scenario;
process.stderr.write(`running ${scenario.name}: ${scenario.description}\n`);
const rows = await scenario.run(args);
process.stdout.write(formatReport(scenario.name, rows) + "\n");
process.exit(0);
