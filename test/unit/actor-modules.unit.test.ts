import "reflect-metadata";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { container } from "tsyringe";
import { fileURLToPath } from "node:url";
import { checkActorModules, loadActorModule, handlerSourceFor } from "../../runtime/actor/module-loader.ts";
import { resolveHandler } from "../../runtime/actor/resolve.ts";
import { defineActor, isActorDefinition } from "../../runtime/actor/define.ts";
import { configFrom } from "../../runtime/config/load.ts";
import { ConfigError, HandlerInvalidError } from "../../runtime/errors.ts";
import type { ActorContext } from "../../runtime/actor/types.ts";
import type { Event } from "../../runtime/events/types.ts";
import { createEvent } from "../../runtime/events/codec.ts";
import { createLogger } from "../../runtime/log.ts";

const DIR = fileURLToPath(new URL("../fixtures/actor-modules/", import.meta.url));
const settings = (name: string, extra: Record<string, unknown> = {}) => configFrom({ actors: [{ name, ...extra }] }).actors[0]!;
const ctx = { logger: createLogger({ level: "silent" }) } as unknown as ActorContext;

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

test("a .ts module exporting defineActor(...) loads through tsx and its handle receives the event", async () => {
  const source = await loadActorModule("greeter", `${DIR}define-actor.ts`);
  assert.ok(isActorDefinition(source));
  const fn = resolveHandler(container, settings("greeter"), source);
  await fn(createEvent({ type: "Greeted", data: { name: "ada" } }) as Event, ctx);
  const mod = (await import(`${DIR}define-actor.ts`)) as { seen: string[] };
  assert.equal(mod.seen, ["ada"]);
});

test("a .js module exporting a class is loaded natively and built by the container", async () => {
  const source = await handlerSourceFor(settings("plain", { module: "./class-handler.js" }), DIR);
  assert.not.ok(isActorDefinition(source));
  const fn = resolveHandler(container, settings("plain"), source);
  await fn(createEvent({ type: "X", data: {} }) as Event, ctx);
});

test("defineActor: a synchronous throw reaches the actor's own middleware as a rejection, a returned value as a resolved promise", async () => {
  const seen: string[] = [];
  const use = [
    (next: (e: Event, c: ActorContext) => Promise<void>) => (e: Event, c: ActorContext) =>
      next(e, c).then(
        () => void seen.push("resolved"),
        (err: unknown) => {
          seen.push(`rejected: ${(err as Error).message}`);
          throw err;
        },
      ),
  ];
  const throwing = resolveHandler(
    container,
    settings("sync-throw"),
    defineActor({
      handle: () => {
        throw new Error("boom");
      },
      use,
    }),
  );
  const err = await rejection(throwing(createEvent({ type: "X", data: {} }) as Event, ctx));
  assert.is(err.message, "boom");
  const plain = resolveHandler(container, settings("sync-ok"), defineActor({ handle: () => undefined, use }));
  await plain(createEvent({ type: "X", data: {} }) as Event, ctx);
  assert.equal(seen, ["rejected: boom", "resolved"]);
});

test("a missing module and a module without a default export are typed errors naming the file", async () => {
  const missing = await rejection(loadActorModule("ghost", `${DIR}nope.ts`));
  assert.instance(missing, HandlerInvalidError);
  assert.match(missing.message, /actor "ghost": module .*nope\.ts does not exist/);
  const noDefault = await rejection(loadActorModule("bare", `${DIR}no-default.ts`));
  assert.instance(noDefault, HandlerInvalidError);
  assert.match(noDefault.message, /has no default export; export default defineActor/);
});

test("checkActorModules lists each bad module with its JSON path and skips actors without one", async () => {
  const config = configFrom({
    actors: [
      { name: "ok", module: "./define-actor.ts" },
      { name: "builtin", handler: "noop" },
      { name: "ghost", module: "./nope.ts" },
      { name: "bare", module: "./no-default.ts" },
    ],
  });
  const problems = await checkActorModules(config, DIR);
  assert.equal(
    problems.map((p) => p.path),
    ["actors[2].module", "actors[3].module"],
  );
  assert.match(problems[0]!.message, /nope\.ts does not exist/);
  assert.match(problems[1]!.message, /no default export/);
});

test("handler and module together are a config problem", () => {
  try {
    configFrom({ actors: [{ name: "a", handler: "noop", module: "./a.ts" }] });
    assert.unreachable("accepted");
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match((err as ConfigError).message, /actors\[0\]\.module: handler and module exclude each other/);
  }
});

test("a constructor parameter without @inject is reported with what to add, not tsyringe's bare TypeInfo message", async () => {
  const source = await loadActorModule("clocked", `${DIR}missing-inject.ts`);
  try {
    resolveHandler(container, settings("clocked"), source);
    assert.unreachable("built");
  } catch (err) {
    assert.instance(err, HandlerInvalidError);
    const msg = (err as Error).message;
    assert.match(msg, /actor "clocked": handler class NeedsClock has 1 constructor parameter\(s\) without @inject\(TOKEN\)/);
    assert.match(msg, /constructor\(@inject\(ActorTokens\.Options\)/);
    assert.match(String((err as Error).cause), /TypeInfo not known for "NeedsClock"/);
  }
});

test("an unregistered handler name says how to provide one", async () => {
  const err = await rejection(handlerSourceFor(settings("nobody"), DIR));
  assert.instance(err, HandlerInvalidError);
  assert.match(err.message, /no handler registered as "nobody".*give the actor a "module"/);
});

test("defineActor refuses an object without handle", () => {
  assert.throws(() => defineActor({} as never), /handle\(event, ctx\)/);
});

test.run();
