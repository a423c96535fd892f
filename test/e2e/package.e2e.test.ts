// jetbus as a user gets it: `npm pack`, installed from the tarball into an empty project, the
// project scaffolded by `npx jetbus init`, an actor module of the project's own routed by a data
// predicate, and a strict type-check of code that imports the public API from "jetbus".
// The README's first-actor blocks are run from the README's own text (docBlock): its commands, its
// actor module and config entries, and init's output and files compared with what it shows.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { startServer } from "../helpers/nats.ts";
import { packedTarball, quietEnv } from "../helpers/package.ts";
import { waitFor } from "../helpers/wait.ts";
import { docBlock, jsonFragment, shellCommands } from "../helpers/doc-blocks.ts";
import { tokenFor } from "../../runtime/events/subjects.ts";

const work = mkdtempSync(join(tmpdir(), "jetbus-package-"));
/** The README's install block, run as written (the tarball `npm pack` made in place of the registry's jetbus). */
const INSTALL = docBlock("first-actor-install");
/** The project folder that block makes and enters. */
const app = join(work, shellCommands(INSTALL).find((w) => w[0] === "cd")![1]!);
let env: Awaited<ReturnType<typeof startServer>>;
let installOutput = "";
const quiet = quietEnv();

function run(cmd: string, args: readonly string[], cwd = app, timeout = 300_000, vars = quiet): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: vars, encoding: "utf8", timeout });
  assert.is(r.status, 0, `${cmd} ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

test.before(async () => {
  env = await startServer();
  const tarball = await packedTarball();
  assert.match(INSTALL, /^npm i jetbus\b/m, "the README installs jetbus with `npm i jetbus`");
  // dependencies come from the npm cache the repository's own install filled (prefer offline);
  // TypeScript comes later, as the README's typing step adds it
  const install = run("bash", ["-ec", INSTALL.replace(/^npm i jetbus\b/m, `npm i ${tarball}`)], work, 300_000, {
    ...quiet,
    npm_config_prefer_offline: "true",
  });
  installOutput = install.stdout + install.stderr;
});

test.after(async () => {
  await env?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** npm's warnings in an install's output, less its notice of esbuild's postinstall (README: Install). */
function warningsBesidesEsbuild(output: string): string[] {
  const warns = output.split("\n").filter((l) => l.startsWith("npm warn"));
  const notice = warns.filter((l) => l.startsWith("npm warn install-scripts"));
  const listed = notice.filter((l) => /^npm warn install-scripts {3}\S/.test(l));
  // the notice lists each package with an install script in a line of its own
  assert.ok(
    listed.every((l) => /^npm warn install-scripts {3}esbuild@[\d.]+ \(postinstall: node install\.js\)$/.test(l)),
    `only esbuild's postinstall may be listed:\n${output}`,
  );
  return warns.filter((l) => !l.startsWith("npm warn install-scripts"));
}

test("installing the tarball: no warning but npm 11's notice of esbuild's postinstall (no engine, no install script of jetbus's)", () => {
  assert.match(installOutput, /added \d+ packages/, "the install output was captured");
  // every package of the tree must accept the running Node: the NATS client is pinned to a release
  // whose @nats-io/nuid (2.0.3) declares Node >= 18, where 3.4.0's nuid 3 declares Node >= 22
  assert.not.match(installOutput, /EBADENGINE/, installOutput);
  // dist/ is built by `prepack` when the tarball is made: installing it runs nothing of jetbus's
  assert.not.match(installOutput, /jetbus@[\d.]+ \(/, installOutput);
  assert.equal(warningsBesidesEsbuild(installOutput), [], installOutput);
});

test("the tarball ships the compiled runtime, not the TypeScript sources", () => {
  const pkg = join(app, "node_modules", "jetbus");
  assert.ok(existsSync(join(pkg, "dist", "runtime", "mod.js")));
  assert.ok(existsSync(join(pkg, "dist", "runtime", "mod.d.ts")));
  assert.ok(existsSync(join(pkg, "dist", "runtime", "console", "assets", "index.html")), "the console's assets beside its compiled code");
  assert.ok(
    existsSync(join(pkg, "dist", "runtime", "config", "config-validator.generated.cjs")),
    "the config validator generated at build time",
  );
  assert.not.ok(existsSync(join(pkg, "runtime")), "no runtime/*.ts: bin/jetbus.js runs dist/");
  assert.not.ok(existsSync(join(pkg, "schemas", "events")), "event schemas are the project's, not the package's");
});

test("the README's first actor: init's output and files as shown, the big-orders module and entries, every command run; the events handled or unrouted", async () => {
  // `npx jetbus init` ran in the install block: what it printed and wrote is what the README shows
  assert.ok(installOutput.includes(docBlock("first-actor-init-output")), `init printed the README's lines:\n${installOutput}`);
  assert.is(
    readFileSync(join(app, "actors", "welcome.ts"), "utf8"),
    docBlock("welcome-actor") + "\n",
    "actors/welcome.ts as the README shows it",
  );
  const configFile = join(app, "jetbus.config.json");
  const config = JSON.parse(readFileSync(configFile, "utf8"));
  assertWithin(jsonFragment(docBlock("welcome-config")), config, "jetbus.config.json");
  assert.is(JSON.parse(readFileSync(join(app, "package.json"), "utf8")).type, "module");

  writeFileSync(
    join(app, "schemas", "events", "OrderPlaced.json"),
    JSON.stringify({
      type: "object",
      additionalProperties: false,
      required: ["order_id", "total"],
      properties: { order_id: { type: "string" }, total: { type: "number" }, currency: { enum: ["EUR", "USD"] } },
    }),
  );
  run("npx", ["--no-install", "jetbus", "types"]);
  writeFileSync(join(app, "actors", "big-orders.ts"), docBlock("big-orders-actor") + "\n");
  const added = jsonFragment(docBlock("big-orders-config")) as { actors: unknown[]; routes: { rules: unknown[] } };
  config.actors.push(...added.actors);
  config.routes.rules.push(...added.routes.rules);
  writeFileSync(configFile, JSON.stringify(config, null, 2));

  // the README's commands in its order, against the test's server (NATS_URL); `up` runs once, started
  // where the README first starts it, from the installed bin (what npx runs) so the test stops exactly that process
  const withServer = { ...quiet, NATS_URL: env.server.url };
  const commands = [...shellCommands(docBlock("first-actor-run")), ...shellCommands(docBlock("big-orders-run"))];
  let up: ReturnType<typeof spawn> | undefined;
  let upOut = "";
  let exited: Promise<number | null> | undefined;
  const published: Array<{ type: string; data: { order_id?: string; total?: number }; id: string }> = [];
  const jsm = await jetstreamManager(env.nc);
  try {
    for (const argv of commands) {
      assert.equal(argv.slice(0, 2), ["npx", "jetbus"], `a README command: ${argv.join(" ")}`);
      if (argv[2] === "up") {
        if (up) continue;
        up = spawn(process.execPath, [join(app, "node_modules", "jetbus", "bin", "jetbus.js"), ...argv.slice(2), "--no-http"], {
          cwd: app,
          env: withServer,
          stdio: ["ignore", "pipe", "pipe"],
        });
        up.stdout!.on("data", (d) => (upOut += d));
        up.stderr!.on("data", (d) => (upOut += d));
        const child = up;
        exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
        await waitFor(
          async () =>
            (await jsm.consumers.info("JETBUS_INBOX", "big-orders").catch(() => null)) &&
            (await jsm.consumers.info("EVENTS", "jetbus-router").catch(() => null)),
          `jetbus up consuming (output: ${upOut})`,
          120_000,
        );
        continue;
      }
      const r = run("npx", ["--no-install", ...argv.slice(1)], app, 300_000, withServer);
      if (argv[2] === "pub") published.push({ type: argv[3]!, data: JSON.parse(argv[4]!), id: r.stdout.trim().split(" ")[0]! });
    }
    assert.ok(up, "the README starts `npx jetbus up`");

    const orders = published.filter((p) => p.type === "OrderPlaced").sort((a, b) => b.data.total! - a.data.total!);
    assert.is(orders.length, 2, "the README publishes a big and a small order");
    const [big, small] = orders as [(typeof orders)[0], (typeof orders)[0]];
    const signup = published.find((p) => p.type === "UserSignedUp");
    assert.ok(signup, "the README publishes UserSignedUp");
    // a processed marker is written after the handler succeeds
    const handled = async (actor: string, id: string) =>
      (await (await new Kvm(env.nc).open(`jetbus-processed-${actor}`)).get(tokenFor(id)))?.operation === "PUT";
    await waitFor(() => handled("big-orders", big.id), `big-orders handled ${big.data.order_id} (output: ${upOut})`, 60_000);
    await waitFor(() => handled("welcome", signup!.id), `welcome handled UserSignedUp (output: ${upOut})`, 60_000);
    // the small order matched no rule: the router sent it to JETBUS_UNROUTED, never to the actor
    await waitFor(
      async () => (await jsm.streams.info("JETBUS_UNROUTED").catch(() => null))?.state.messages === 1,
      "the small order unrouted",
      60_000,
    );
    const unrouted = await jsm.streams.getMessage("JETBUS_UNROUTED", { last_by_subj: "unrouted.OrderPlaced" });
    assert.match(unrouted!.string(), new RegExp(`"order_id":"${small.data.order_id}"`), "the unrouted message is the small order");
    assert.not.ok(await handled("big-orders", small.id), "the small order never reached big-orders");
    assert.match(upOut, /big order/, "the README's actor logged");
  } finally {
    up?.kill("SIGTERM");
  }
  assert.is(await exited, 0, `jetbus up exits 0 on SIGTERM:\n${upOut}`);
});

/** Every key and array element of `part` is in `whole` (the README shows an abridged config). */
function assertWithin(part: unknown, whole: unknown, at: string): void {
  if (Array.isArray(part)) {
    assert.ok(Array.isArray(whole), `${at} is an array`);
    part.forEach((p, i) => assertWithin(p, (whole as unknown[])[i], `${at}[${i}]`));
  } else if (part && typeof part === "object") {
    assert.ok(whole && typeof whole === "object", `${at} is an object`);
    for (const [k, v] of Object.entries(part)) assertWithin(v, (whole as Record<string, unknown>)[k], `${at}.${k}`);
  } else {
    assert.is(whole, part, at);
  }
}

test("the README's typing step with the TypeScript npm installs today: `npx tsc` passes, a type error or an unknown event type fails it", () => {
  // README (Install): npm 11 lists esbuild's postinstall until the project records a choice; with it
  // recorded, installing more prints no warning at all
  run("npm", ["install-scripts", "deny", "esbuild"]);
  // no --prefer-offline: the version npm picks today, as a user gets it
  const added = run("npm", ["install", "--no-audit", "--no-fund", "-D", "typescript", "@types/node"]);
  assert.not.match(added.stdout + added.stderr, /npm warn/, added.stdout + added.stderr);
  const latest = run("npm", ["view", "typescript", "version"]).stdout.trim();
  const installed = JSON.parse(readFileSync(join(app, "node_modules", "typescript", "package.json"), "utf8")).version as string;
  assert.is(installed, latest, "npm installed the registry's latest TypeScript");
  console.log(`  TypeScript ${installed}`);

  const tsc = (args: string[] = []) =>
    spawnSync("npx", ["--no-install", "tsc", ...args], { cwd: app, env: quiet, encoding: "utf8", timeout: 300_000 });
  const clean = tsc();
  assert.is(clean.status, 0, `npx tsc on the project jetbus init made:\n${clean.stdout}${clean.stderr}`);

  writeFileSync(
    join(app, "actors", "typos.ts"),
    [
      `import { defineActor } from "jetbus";`,
      `import type { OrderPlaced } from "../types/events.js";`,
      ``,
      `export default defineActor<OrderPlaced>({`,
      `  async handle(event, ctx) {`,
      `    const id: number = event.data.order_id;`,
      `    await ctx.publish("NoSuchType", { order_id: "o1" });`,
      `    await ctx.publish("OrderPlaced", { order_id: "o2", total: "ten" });`,
      `    await ctx.publish("UserSignedUp", { user_id: "u1", email: "a@b.co" });`,
      `    ctx.logger.info({ id });`,
      `  },`,
      `});`,
    ].join("\n"),
  );
  try {
    // --pretty false: one line per error to match (TypeScript 7 colours its output when FORCE_COLOR is set, even to 0)
    const wrong = tsc(["--pretty", "false"]);
    const out = wrong.stdout + wrong.stderr;
    assert.ok(wrong.status !== 0 && wrong.status !== null, out);
    assert.match(out, /actors\/typos\.ts\(6,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
    // generated event types make the type itself checked: a misspelt or unknown type does not compile
    assert.match(out, /actors\/typos\.ts\(7,\d+\): error TS2345: Argument of type '"NoSuchType"' is not assignable/);
    assert.match(out, /actors\/typos\.ts\(8,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
    assert.not.match(out, /typos\.ts\(9,/, "a known type with its data compiles");
    assert.is(out.match(/error TS/g)?.length, 3, out);
  } finally {
    rmSync(join(app, "actors", "typos.ts"));
  }
  // the file gone, the project checks clean again
  assert.is(tsc().status, 0);
});

test('a file importing the public API from "jetbus" type-checks under --strict, and wrong event data or an unknown type does not', () => {
  writeFileSync(
    join(app, "embed.ts"),
    [
      `import { createJetbus, defineActor, type ActorContext, type Event, type EventStore, type Jetbus, type JetbusConfig } from "jetbus";`,
      `import { TerminalError } from "jetbus/errors";`,
      `import type { OrderPlaced } from "./types/events.js";`,
      ``,
      `export const audit = defineActor<OrderPlaced>({`,
      `  async handle(event: Event<OrderPlaced>, ctx: ActorContext) {`,
      `    const total: number = event.data.total;`,
      `    if (total < 0) throw new TerminalError("negative total");`,
      `    await ctx.publish("UserSignedUp", { user_id: event.data.order_id, email: "a@b.co" });`,
      `  },`,
      `});`,
      ``,
      `export async function main(): Promise<void> {`,
      `  const jetbus: Jetbus = await createJetbus({ configPath: "jetbus.config.json", source: "shop", handlers: { audit } });`,
      `  const config: JetbusConfig = jetbus.config;`,
      `  await jetbus.start({ actors: config.actors.map((a) => a.name) });`,
      `  await jetbus.publish("OrderPlaced", { order_id: "o1", total: 10, currency: "EUR" });`,
      `  const store: EventStore = jetbus.store;`,
      `  for await (const e of store.history({ limit: 1 })) console.log(e.event.id);`,
      `  await jetbus.stop();`,
      `}`,
    ].join("\n"),
  );
  writeFileSync(
    join(app, "wrong.ts"),
    [
      `import { defineActor, type Jetbus } from "jetbus";`,
      `import type { OrderPlaced } from "./types/events.js";`,
      `declare const jetbus: Jetbus;`,
      `await jetbus.publish("OrderPlaced", { order_id: "o1", total: "ten" });`,
      `defineActor<OrderPlaced>({ async handle(event) { event.data.missing.toString(); } });`,
      `await jetbus.publish("SomethingUntyped", { anything: true });`,
    ].join("\n"),
  );
  const tsconfig = (files: string[]) =>
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: "NodeNext",
        moduleResolution: "NodeNext",
        target: "ES2022",
        noEmit: true,
        skipLibCheck: false,
        experimentalDecorators: true,
        types: ["node"],
      },
      files: [...files, "types/events.d.ts"],
    });
  writeFileSync(join(app, "tsconfig.ok.json"), tsconfig(["embed.ts", "actors/welcome.ts", "actors/big-orders.ts"]));
  writeFileSync(join(app, "tsconfig.wrong.json"), tsconfig(["wrong.ts"]));
  const tsc = join(app, "node_modules", "typescript", "bin", "tsc");
  const ok = spawnSync(process.execPath, [tsc, "-p", "tsconfig.ok.json"], { cwd: app, encoding: "utf8", timeout: 300_000 });
  assert.is(ok.status, 0, `strict type-check failed:\n${ok.stdout}${ok.stderr}`);
  // --pretty false: TypeScript 7 colours its output when FORCE_COLOR is set, even to 0 (bin/test.js sets it)
  const wrong = spawnSync(process.execPath, [tsc, "-p", "tsconfig.wrong.json", "--pretty", "false"], {
    cwd: app,
    encoding: "utf8",
    timeout: 300_000,
  });
  assert.ok(wrong.status !== 0 && wrong.status !== null, wrong.stdout); // 2 from TypeScript 5, 1 from 7
  assert.match(wrong.stdout, /wrong\.ts\(4,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/, wrong.stdout);
  assert.match(wrong.stdout, /wrong\.ts\(5,\d+\): error TS2339: Property 'missing' does not exist on type 'OrderPlaced'/, wrong.stdout);
  // jetbus.publish as ctx.publish: with generated event types, a type they do not name is refused
  assert.match(wrong.stdout, /wrong\.ts\(6,\d+\): error TS2345: Argument of type '"SomethingUntyped"' is not assignable/, wrong.stdout);
  assert.is(readdirSync(app).filter((f) => f.endsWith(".js")).length, 0, "noEmit: nothing compiled into the project");
});

test.run();
